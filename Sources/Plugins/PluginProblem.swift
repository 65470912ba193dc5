import Workflow

/// Why an entry of the plugins directory is not a usable plugin: the name it would have had
/// and one diagnostic. Manifest problems carry the manifest's line and column; problems with
/// a whole file or directory have line and column 0.
///
/// Either way the entry is not usable. The severity says how sure discovery is that it was
/// meant to be a plugin: a warning for entries that do not look like one (a file without an
/// execute bit, a directory without `plugin.yaml`), an error for everything else (a manifest
/// with errors, a symlink leading outside, a program that cannot run, a name hooks cannot use).
///
/// ```swift
/// for problem in catalog.problems { print(problem) }
/// // plugins/task/plugin.yaml:4:1: error: unknown key 'timout' in a plugin manifest (did you mean 'timeout'?)
/// ```
public struct PluginProblem: Sendable, Hashable, CustomStringConvertible {
    /// The directory entry's name (which may itself be the problem, e.g. `Notify.sh`).
    public var name: String
    /// Where and what.
    public var diagnostic: Diagnostic

    /// Creates a problem.
    public init(name: String, diagnostic: Diagnostic) {
        self.name = name
        self.diagnostic = diagnostic
    }

    /// The diagnostic as `file:line:column: severity: message`.
    public var description: String { diagnostic.description }
}
