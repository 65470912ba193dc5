import Foundation

/// A definition loaded from a file.
public struct LoadedWorkflow: Sendable, Equatable {
    /// The file as named (directory path joined with the file name).
    public var file: String
    /// The validated definition.
    public var definition: WorkflowDefinition
}

/// The outcome of loading files and directories of definitions.
public struct WorkflowFileSet: Sendable {
    /// Every file considered, in the order loaded.
    public var files: [String]
    /// The definitions that validated, in file order.
    public var workflows: [LoadedWorkflow]
    /// Every diagnostic, grouped by file in file order and sorted by position in each.
    public var diagnostics: [Diagnostic]

    /// Number of error diagnostics.
    public var errorCount: Int { diagnostics.filter(\.isError).count }
    /// Number of warning diagnostics.
    public var warningCount: Int { diagnostics.count - errorCount }
}

extension WorkflowLoader {
    /// Loads files and directories the way `orchestrator validate` does: a directory
    /// contributes its `*.yaml` and `*.yml` files (not recursively, sorted by name); a file is
    /// loaded whatever its name. Also reports missing paths, directories without definitions,
    /// and a workflow name defined in more than one file.
    ///
    /// This reads the definition files and nothing else.
    public static func loadFiles(at paths: [String], pluginNames: Set<String>? = nil,
                                 limits: WorkflowLimits = WorkflowLimits()) -> WorkflowFileSet {
        var set = WorkflowFileSet(files: [], workflows: [], diagnostics: [])
        var firstDefinition: [String: (file: String, position: SourcePosition)] = [:]
        for path in paths {
            let (files, problems) = definitionFiles(at: path)
            set.diagnostics += problems
            for file in files {
                set.files.append(file)
                let compiled = compileFile(file, pluginNames: pluginNames, limits: limits)
                var diagnostics = compiled.diagnostics
                if let definition = compiled.definition {
                    let position = compiled.namePosition ?? .start
                    if let first = firstDefinition[definition.name] {
                        diagnostics.append(Diagnostic(
                            file: file, line: position.line, column: position.column, severity: .error,
                            message: "workflow name '\(definition.name)' is already defined in \(first.file):\(first.position.line):\(first.position.column)"))
                    } else {
                        firstDefinition[definition.name] = (file, position)
                        set.workflows.append(LoadedWorkflow(file: file, definition: definition))
                    }
                }
                set.diagnostics += diagnostics.sortedByPosition()
            }
        }
        return set
    }

    /// The definition files a path names (see `loadFiles`), or why there are none.
    static func definitionFiles(at path: String) -> (files: [String], problems: [Diagnostic]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return ([], [Diagnostic(file: path, line: 0, column: 0, severity: .error, message: "no such file or directory")])
        }
        guard isDirectory.boolValue else { return ([path], []) }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            return ([], [Diagnostic(file: path, line: 0, column: 0, severity: .error, message: "cannot list directory: \(error.localizedDescription)")])
        }
        let files = names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
            .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
        if files.isEmpty {
            return ([], [Diagnostic(file: path, line: 0, column: 0, severity: .error,
                                    message: "no workflow definitions (*.yaml, *.yml) in this directory")])
        }
        return (files, [])
    }

    /// Reads and compiles one file, refusing oversized files before reading them.
    static func compileFile(_ file: String, pluginNames: Set<String>?, limits: WorkflowLimits) -> Compiled {
        func failure(_ message: String, line: Int = 0) -> Compiled {
            Compiled(definition: nil, diagnostics: [Diagnostic(file: file, line: line, column: line, severity: .error, message: message)],
                     namePosition: nil)
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber,
           size.intValue > limits.documentBytesMax {
            return failure("file is \(size.intValue) bytes, over the limit of \(limits.documentBytesMax) bytes for a workflow definition", line: 1)
        }
        guard let handle = FileHandle(forReadingAtPath: file) else { return failure("cannot read file") }
        defer { try? handle.close() }
        // Read at most one byte past the limit, so a file that grew since the check still fails cleanly.
        let data: Data
        do {
            data = try handle.read(upToCount: limits.documentBytesMax + 1) ?? Data()
        } catch {
            return failure("cannot read file: \(error.localizedDescription)")
        }
        return compile(bytes: [UInt8](data), text: nil, file: file, pluginNames: pluginNames, limits: limits)
    }
}
