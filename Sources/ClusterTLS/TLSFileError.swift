/// A certificate, key or CA file that cannot be used, said in one line:
/// `--tls-cert /etc/orch/node-1.pem: no such file`.
///
/// `setting` names where the path came from (a flag such as `--peer-ca`, or a config-file
/// place such as `orchestrator.yaml:12:3: tls.cert`), so the user knows what to fix.
public struct TLSFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The flag or config key the path was given with.
    public var setting: String
    /// The file.
    public var path: String
    /// What is wrong with it, and what would be right where that is not obvious.
    public var problem: String

    public init(setting: String, path: String, problem: String) {
        self.setting = setting
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(setting) \(path): \(problem)" }
}

/// A path to a PEM file together with the setting it was given as (for errors).
public struct TLSFile: Sendable, Equatable, Hashable {
    public var path: String
    /// `--tls-cert`, or `orchestrator.yaml:7:9: tls.cert`.
    public var setting: String

    public init(_ path: String, setting: String) {
        self.path = path
        self.setting = setting
    }

    func error(_ problem: String) -> TLSFileError { TLSFileError(setting: setting, path: path, problem: problem) }
}
