/// The Raft consensus algorithm as a pure state machine (see docs/raft.md).
public enum RaftNamespace {}
