import Workflow

/// One usable plugin, resolved by `PluginCatalog.discover(in:)`: what to run, where, and
/// within which limits. It holds no request data; a run adds the event (`HookEvent`).
///
/// ```swift
/// let catalog = PluginCatalog.discover(in: "plugins")
/// if let notify = catalog.plugin(named: "notify") {
///     notify.command      // ["/srv/orchestrator/plugins/notify"]
///     notify.directory    // "/srv/orchestrator/plugins" (its working directory)
/// }
/// ```
public struct Plugin: Sendable, Hashable {
    /// How the plugin is declared on disk.
    public enum Kind: String, Sendable, Hashable, CustomStringConvertible {
        /// `plugins/NAME` is itself an executable file.
        case executable
        /// `plugins/NAME/plugin.yaml` is a manifest naming the command.
        case manifest

        /// `executable` or `manifest`.
        public var description: String { rawValue }
    }

    /// The plugin's name, as hooks name it (`plugin: notify`).
    public var name: String
    /// Executable file or manifest.
    public var kind: Kind
    /// The argv to run, never built from request data. `command[0]` is either an absolute
    /// path (a file inside the plugins directory, symlinks resolved) or a bare program name
    /// without `/`, looked up at run time in the `PATH` of the plugin's environment.
    public var command: [String]
    /// The working directory of a run: the plugin's own directory (`plugins/NAME/` for a
    /// manifest, the plugins directory for an executable `plugins/NAME`), symlinks resolved.
    public var directory: String
    /// The manifest's `timeout`; nil leaves it to the hook or `PluginRunSettings.timeoutDefault`.
    public var timeout: WorkflowDuration?
    /// Names of variables passed through from the server's environment (the manifest's
    /// `env`), beyond `PATH`, `HOME` and `LANG`, which every plugin gets.
    public var environmentAllowList: [String]
    /// At most this many runs of the plugin at once. The runner does not enforce it; the
    /// dispatcher that schedules runs does.
    public var concurrency: Int
    /// The manifest's `description`: one line for people, e.g. in a list of plugins.
    public var description: String?
    /// Where it was found, as the plugins directory was named: the executable or the manifest.
    public var sourcePath: String

    /// At most this many runs at once when the manifest does not say: 4.
    public static let concurrencyDefault = 4
    /// The largest `concurrency` a manifest may ask for: 256.
    public static let concurrencyMax = 256

    /// Creates a plugin. Discovery builds these; tests and tools may build one directly, in
    /// which case the runner runs exactly what it is given.
    public init(name: String, kind: Kind, command: [String], directory: String,
                timeout: WorkflowDuration? = nil, environmentAllowList: [String] = [],
                concurrency: Int = Plugin.concurrencyDefault, description: String? = nil,
                sourcePath: String) {
        self.name = name
        self.kind = kind
        self.command = command
        self.directory = directory
        self.timeout = timeout
        self.environmentAllowList = environmentAllowList
        self.concurrency = concurrency
        self.description = description
        self.sourcePath = sourcePath
    }
}
