/// What this build of the orchestrator is: `orchestrator_build_info{version}` on `GET /metrics`.
public enum BuildInfo {
    /// The release this source tree is, or will be (`-dev` until it is tagged).
    public static let version = "0.1.0-dev"
}
