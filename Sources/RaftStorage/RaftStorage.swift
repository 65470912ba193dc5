/// Durable Raft storage: write-ahead log, hard state and snapshots (see docs/storage.md).
public enum RaftStorageNamespace {}
