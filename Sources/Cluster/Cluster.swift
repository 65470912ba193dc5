/// Drives one Raft node (placeholder until the node runtime lands).
enum ClusterNamespace {}
