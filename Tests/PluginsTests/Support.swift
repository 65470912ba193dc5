import Foundation
import XCTest
@testable import Plugins
import Workflow

/// A temporary directory for one test, removed in `tearDown` (also when the test fails).
class PluginTestCase: XCTestCase {
    /// The test's own directory (canonical: /tmp may be a symlink elsewhere).
    var root: String!
    /// `root/plugins`.
    var pluginsDirectory: String { root + "/plugins" }

    override func setUpWithError() throws {
        let template = FileManager.default.temporaryDirectory.path + "/orchestrator-plugins-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made: String? = bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        let path = try XCTUnwrap(made, "mkdtemp failed")
        root = PluginFiles.realPath(path) ?? path
        try FileManager.default.createDirectory(atPath: pluginsDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let root { try? FileManager.default.removeItem(atPath: root) }
    }

    /// Writes `text` to `path` (relative to `root`), creating directories, with `mode`.
    @discardableResult
    func write(_ path: String, _ text: String, mode: Int = 0o644) throws -> String {
        let full = path.hasPrefix("/") ? path : root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
        return full
    }

    /// Writes an executable `/bin/sh` script at `path` (relative to `root`).
    @discardableResult
    func script(_ path: String, _ body: String) throws -> String {
        try write(path, "#!/bin/sh\n" + body + "\n", mode: 0o755)
    }

    /// An executable plugin `plugins/NAME` running `body` in `/bin/sh`, as discovery resolves it.
    func shellPlugin(_ name: String, _ body: String) throws -> Plugin {
        try script("plugins/\(name)", body)
        return try XCTUnwrap(PluginCatalog.discover(in: pluginsDirectory).plugin(named: name), "plugin \(name) not discovered")
    }
}
