/// The orchestrator's version, once: what `orchestrator --version` prints and what a backup
/// file records as the server that wrote it (`snapshot inspect` shows it).
public enum ServerVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
