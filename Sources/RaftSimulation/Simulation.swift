import Raft
/// Deterministic simulation of many Raft cores (test support).
public enum SimulationNamespace {}
