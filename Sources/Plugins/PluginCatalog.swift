import Workflow

/// The plugins found in one directory: the one discovery rule, shared by `serve`,
/// `validate --plugins`, the API's definition check and `orchestrator plugins list`.
///
/// In the plugins directory, each entry whose name does not start with `.` is one of:
/// - `NAME`, an executable regular file: the plugin runs it with no arguments, in the
///   plugins directory;
/// - `NAME/plugin.yaml`, a manifest (see `docs/plugins.md`): the plugin runs its `command`
///   in `NAME/`.
///
/// Anything else — a file that is not executable, a directory without `plugin.yaml`, a name
/// hooks could not use, a symlink leading outside the directory, a manifest with errors — is
/// listed in `problems` and is not usable. Discovery never throws: a missing directory is an
/// empty catalog with a note.
///
/// ```swift
/// let catalog = PluginCatalog.discover(in: "plugins")
/// catalog.names                          // ["http-post", "notify", "task"]
/// catalog.problems.map(\.description)    // ["plugins/README.md: error: ... is not executable ..."]
/// ```
public struct PluginCatalog: Sendable {
    /// The plugins directory as it was named.
    public let directory: String
    /// False when the directory does not exist or is not a directory (see `notes`).
    public let directoryFound: Bool
    /// The usable plugins, sorted by name.
    public let plugins: [Plugin]
    /// Entries that are not usable plugins, sorted by name, each with what is wrong.
    public let problems: [PluginProblem]
    /// Remarks about the directory as a whole, e.g. that it does not exist.
    public let notes: [String]

    /// The names of the usable plugins: what workflow definitions are checked against
    /// (`WorkflowLoader.load(..., pluginNames:)`).
    public var names: Set<String> { Set(plugins.map(\.name)) }

    /// The usable plugin called `name`, if any. Names that are not valid plugin names
    /// (`..`, anything with `/`) find nothing.
    public func plugin(named name: String) -> Plugin? {
        guard Suggestions.isValidName(name) else { return nil }
        return plugins.first { $0.name == name }
    }

    /// Problems of the entry called `name` (empty when it is usable or absent).
    public func problems(named name: String) -> [PluginProblem] {
        problems.filter { $0.name == name }
    }

    /// Creates a catalog from parts (discovery builds these; tests may too).
    public init(directory: String, directoryFound: Bool, plugins: [Plugin], problems: [PluginProblem], notes: [String] = []) {
        self.directory = directory
        self.directoryFound = directoryFound
        self.plugins = plugins.sorted { $0.name < $1.name }
        self.problems = problems
        self.notes = notes
    }

    /// The manifest's file name inside a plugin's directory.
    public static let manifestFileName = "plugin.yaml"
    /// Largest manifest read, in bytes: 64 KiB (a manifest is a few lines).
    public static let manifestBytesMax = 64 << 10

    /// Reads `directory` and resolves every plugin in it. Symlinks are followed, and what
    /// they lead to must lie inside the directory (after resolving it too).
    public static func discover(in directory: String) -> PluginCatalog {
        guard let root = PluginFiles.realPath(directory) else {
            return PluginCatalog(directory: directory, directoryFound: false, plugins: [], problems: [],
                                 notes: ["plugins directory '\(directory)' does not exist: no plugins"])
        }
        guard PluginFiles.type(of: root) == .directory else {
            return PluginCatalog(directory: directory, directoryFound: false, plugins: [], problems: [],
                                 notes: ["'\(directory)' is not a directory: no plugins"])
        }
        guard let entries = PluginFiles.entries(of: root) else {
            return PluginCatalog(directory: directory, directoryFound: true, plugins: [], problems: [],
                                 notes: ["cannot list plugins directory '\(directory)': \(PluginFiles.lastErrorText)"])
        }
        var plugins: [Plugin] = []
        var problems: [PluginProblem] = []
        for name in entries where !name.hasPrefix(".") {
            var discovery = EntryDiscovery(name: name, root: root, directory: directory)
            if let plugin = discovery.resolve() {
                plugins.append(plugin)
            } else {
                problems += discovery.diagnostics.map { PluginProblem(name: name, diagnostic: $0) }
            }
        }
        return PluginCatalog(directory: directory, directoryFound: true, plugins: plugins, problems: problems)
    }
}
