/// The environment a plugin runs in, and how its program is found: nothing of the server's
/// environment reaches a plugin unless it is named here or in the manifest's `env`.
enum PluginEnvironment {
    /// Passed through from the server's environment to every plugin (when set there).
    static let passedThrough = ["PATH", "HOME", "LANG"]

    /// `PATH`, `HOME`, `LANG` and the manifest's allow-list (from `server`, when set there),
    /// then the `ORCH_*` variables of the event, which win over anything passed through.
    static func variables(for plugin: Plugin, event: HookEvent, server: [String: String]) -> [String: String] {
        var variables: [String: String] = [:]
        for name in passedThrough + plugin.environmentAllowList {
            if let value = server[name] { variables[name] = sanitized(value) }
        }
        let orchestrator: [String: String] = [
            "ORCH_WORKFLOW": event.workflow,
            "ORCH_INSTANCE": event.instance,
            "ORCH_TRANSITION": event.transition ?? "",
            "ORCH_FROM": event.from ?? "",
            "ORCH_TO": event.to,
            "ORCH_DISPATCH_ID": event.dispatchID,
            "ORCH_ATTEMPT": String(event.attempt),
        ]
        for (name, value) in orchestrator { variables[name] = sanitized(value) }
        return variables
    }

    /// An environment value cannot hold NUL (it ends the C string): keep what precedes it.
    private static func sanitized(_ value: String) -> String {
        guard let end = value.utf8.firstIndex(of: 0) else { return value }
        return String(value[..<end])
    }

    /// Why a program cannot be run, for `HookOutcome.couldNotStart`.
    struct NotFound: Error {
        var reason: String
    }

    /// The absolute path to execute for `program` (`Plugin.command[0]`): a path with `/` as
    /// it is (relative to `directory` when not absolute), a bare name looked up in the
    /// absolute entries of `path` (relative entries, which would depend on the working
    /// directory, are skipped). The file must be an executable regular file.
    static func locate(_ program: String, directory: String, path: String?) -> Result<String, NotFound> {
        if program.contains("/") {
            let candidate = program.hasPrefix("/") ? program : PluginFiles.join(directory, program)
            switch PluginFiles.type(of: candidate) {
            case .missing:
                return .failure(NotFound(reason: "'\(candidate)' does not exist"))
            case .directory, .other:
                return .failure(NotFound(reason: "'\(candidate)' is not a regular file"))
            case .regularFile:
                guard PluginFiles.isExecutable(candidate) else {
                    return .failure(NotFound(reason: "'\(candidate)' is not executable (permission denied); chmod +x it"))
                }
                return .success(candidate)
            }
        }
        guard let path, !path.isEmpty else {
            return .failure(NotFound(reason: "'\(program)' is looked up in PATH, but PATH is not set in the server's environment"))
        }
        for entry in path.split(separator: ":") where entry.hasPrefix("/") {
            let candidate = PluginFiles.join(String(entry), program)
            if PluginFiles.type(of: candidate) == .regularFile, PluginFiles.isExecutable(candidate) {
                return .success(candidate)
            }
        }
        return .failure(NotFound(reason: "'\(program)' was not found in PATH (\(path))"))
    }
}
