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

    /// The server environment the runner is given in tests: a canary that must never reach a
    /// plugin, and one variable that manifests may allow.
    static let serverEnvironment: [String: String] = [
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
        "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root",
        "LANG": "C.UTF-8",
        "ORCH_TEST_CANARY": "the-server-secret",
        "AWS_SECRET_ACCESS_KEY": "also-secret",
        "ALLOWED_VARIABLE": "passed-through",
    ]

    /// A runner with short limits, so tests of timeouts stay fast.
    func runner(timeoutDefault: WorkflowDuration = WorkflowDuration(milliseconds: 10_000),
                grace: Duration = .milliseconds(500)) -> PluginRunner {
        PluginRunner(settings: PluginRunSettings(timeoutDefault: timeoutDefault, gracePeriod: grace),
                     serverEnvironment: Self.serverEnvironment)
    }

    /// An event for tests.
    func event(data: [String: JSONValue] = ["priority": "high"], with: [String: JSONValue] = [:],
               instance: String = "o-17", attempt: Int = 1) -> HookEvent {
        HookEvent(workflow: "order", version: 3, instance: instance, transition: "pay", from: "created", to: "paid",
                  data: data, with: with, dispatchID: "812.0", attempt: attempt, deadlineMillis: 951_782_400_999)
    }

    /// True while `pid` names a live process (a zombie counts as gone: it runs nothing, and
    /// an orphan's zombie is reaped by whoever adopted it, which may take a moment).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// Waits up to `seconds` for every pid to be gone; returns those still alive.
    static func survivors(_ pids: [pid_t], within seconds: Double = 2) async -> [pid_t] {
        let deadline = Date().addingTimeInterval(seconds)
        var alive = pids.filter(isAlive)
        while !alive.isEmpty, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            alive = alive.filter(isAlive)
        }
        return alive
    }

    /// The pids a plugin printed, one per line as `pid N`.
    static func printedPids(_ text: String) -> [pid_t] {
        text.split(separator: "\n").compactMap { line in
            line.hasPrefix("pid ") ? pid_t(line.dropFirst(4)) : nil
        }
    }
}
