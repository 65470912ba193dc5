import Workflow

/// Resolves one entry of the plugins directory into a `Plugin`, or collects why it is not one.
struct EntryDiscovery {
    let name: String
    /// The plugins directory, canonical (`realpath`): the boundary every path must stay inside.
    let root: String
    /// The plugins directory as the user named it, for messages.
    let directory: String
    private(set) var diagnostics: [Diagnostic] = []

    init(name: String, root: String, directory: String) {
        self.name = name
        self.root = root
        self.directory = directory
    }

    /// The entry as the user would name it: `plugins/NAME`.
    var shownPath: String { PluginFiles.join(directory, name) }

    /// Records a problem with the whole entry. Entries that do not look like plugins at all
    /// (a plain file, a directory without a manifest) get a warning; everything else an error.
    private mutating func problem(_ message: String, file: String? = nil, severity: Diagnostic.Severity = .error) {
        diagnostics.append(Diagnostic(file: file ?? shownPath, line: 0, column: 0, severity: severity, message: message))
    }

    /// The plugin, or nil with `diagnostics` saying why not.
    mutating func resolve() -> Plugin? {
        guard Suggestions.isValidName(name) else {
            problem("'\(name)' is not a valid plugin name: use lowercase letters, digits, '-' and '_', starting with a letter "
                    + "or digit, at most \(WorkflowLimits.nameLengthMax) characters, so that hooks can name it")
            return nil
        }
        let entryPath = PluginFiles.join(root, name)
        guard let resolved = PluginFiles.realPath(entryPath) else {
            let failure = PluginFiles.lastErrorText
            problem(PluginFiles.isSymbolicLink(entryPath) ? "is a symbolic link to something that does not exist"
                                                          : "cannot be resolved: \(failure)")
            return nil
        }
        guard resolved != root else {
            problem("is a link to the plugins directory itself")
            return nil
        }
        guard PluginFiles.isInside(resolved, root: root) else {
            problem("resolves to '\(resolved)', outside the plugins directory '\(root)'; a plugin must live inside it")
            return nil
        }
        switch PluginFiles.type(of: resolved) {
        case .regularFile:
            guard PluginFiles.isExecutable(resolved) else {
                problem("is not executable: make it executable (chmod +x \(shownPath)), or make it a directory with a "
                        + "\(PluginCatalog.manifestFileName) manifest", severity: .warning)
                return nil
            }
            return Plugin(name: name, kind: .executable, command: [resolved], directory: root, sourcePath: shownPath)
        case .directory:
            return resolveManifest(in: resolved)
        case .missing, .other:
            problem("is neither an executable file nor a directory with a \(PluginCatalog.manifestFileName) manifest",
                    severity: .warning)
            return nil
        }
    }

    private mutating func resolveManifest(in pluginDirectory: String) -> Plugin? {
        let shownManifest = PluginFiles.join(shownPath, PluginCatalog.manifestFileName)
        let manifestPath = PluginFiles.join(pluginDirectory, PluginCatalog.manifestFileName)
        guard PluginFiles.exists(manifestPath) else {
            problem("is a directory without a \(PluginCatalog.manifestFileName) manifest; add one naming its command, "
                    + "e.g. command: [./run]", severity: .warning)
            return nil
        }
        guard let manifestReal = PluginFiles.realPath(manifestPath), PluginFiles.isInside(manifestReal, root: root),
              PluginFiles.type(of: manifestReal) == .regularFile else {
            problem("is not a regular file inside the plugins directory", file: shownManifest)
            return nil
        }
        let contents = PluginFiles.read(manifestReal, bytesMax: PluginCatalog.manifestBytesMax)
        guard case .success(let bytes) = contents else {
            if case .failure(let failure) = contents { problem(failure.message, file: shownManifest) }
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            problem("is not valid UTF-8 text", file: shownManifest)
            return nil
        }
        let (parsed, manifestDiagnostics) = PluginManifest.parse(text, file: shownManifest)
        diagnostics += manifestDiagnostics
        guard let manifest = parsed else { return nil }

        let program: String
        switch resolveProgram(manifest.command[0], in: pluginDirectory) {
        case .success(let resolved):
            program = resolved
        case .failure(let failure):
            diagnostics.append(Diagnostic(file: shownManifest, line: manifest.programPosition.line,
                                          column: manifest.programPosition.column, severity: .error, message: failure.message))
            return nil
        }
        return Plugin(name: name, kind: .manifest, command: [program] + manifest.command.dropFirst(), directory: pluginDirectory,
                      timeout: manifest.timeout, environmentAllowList: manifest.environmentAllowList,
                      concurrency: manifest.concurrency, description: manifest.description, sourcePath: shownManifest)
    }

    struct ProgramError: Error {
        var message: String
    }

    /// The rule for a manifest's `command[0]`: a path with `/`, or a name that is a file in
    /// the plugin's directory, is that file (canonical, inside the plugins directory, an
    /// executable regular file); any other name stays bare, to be looked up in `PATH` when
    /// the plugin runs. Absolute paths and `..` are refused outright.
    func resolveProgram(_ program: String, in pluginDirectory: String) -> Result<String, ProgramError> {
        if program.hasPrefix("/") {
            return .failure(ProgramError(message: "command[0] '\(program)' is an absolute path; name a file in the plugin's "
                                         + "directory (./run) or a program to look up in PATH (python3)"))
        }
        if program.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            return .failure(ProgramError(message: "command[0] '\(program)' contains '..'; a plugin's program must lie in its own directory"))
        }
        let candidate = PluginFiles.join(pluginDirectory, program)
        guard program.contains("/") || PluginFiles.exists(candidate) else { return .success(program) }
        guard let real = PluginFiles.realPath(candidate) else {
            return .failure(ProgramError(message: PluginFiles.isSymbolicLink(candidate)
                                            ? "command[0] '\(program)' is a symbolic link to something that does not exist"
                                            : "command[0] '\(program)' does not exist in the plugin's directory"))
        }
        guard PluginFiles.isInside(real, root: root) else {
            return .failure(ProgramError(message: "command[0] '\(program)' resolves to '\(real)', outside the plugins directory '\(root)'"))
        }
        guard PluginFiles.type(of: real) == .regularFile else {
            return .failure(ProgramError(message: "command[0] '\(program)' is not a regular file"))
        }
        guard PluginFiles.isExecutable(real) else {
            return .failure(ProgramError(message: "command[0] '\(program)' is not executable: chmod +x it, or run it with its "
                                         + "interpreter, e.g. command: [python3, \(program)]"))
        }
        return .success(real)
    }
}
