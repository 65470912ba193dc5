import Foundation
import XCTest

/// The dashboard in a real browser: headless Chromium driven by Selenium
/// (`browser/dashboard_check.py`) against three `orchestrator serve` processes seeded
/// through the CLI. Needs Debian's `chromium`, `chromium-driver` and `python3-selenium`
/// (`.ci/run` installs them); without them the test fails and says what to install.
final class DashboardBrowserTests: XCTestCase {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    func testTheDashboardShowsTheClusterLiveInABrowser() async throws {
        let python = try Self.requireBrowser()
        let screenshots = FileManager.default.temporaryDirectory.appendingPathComponent("orch-dashboard-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        print("dashboard screenshots: \(screenshots.path)")

        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        // Markup in data must show as text (the page never parses data as HTML).
        try cluster.addWorkflow(file: "markup.yaml", """
            workflow: markup
            description: "<img src=x id=injected onerror=alert(1)><b>bold</b>"
            initial: a
            states: { a: {}, b: { final: true } }
            transitions: { go: { from: a, to: b } }
            """)
        // A nightly cron trigger (a transition, so it starts nothing) and a state timeout.
        try cluster.addWorkflow(file: "nightly.yaml", """
            workflow: nightly
            initial: waiting
            states:
              waiting: { timeout: { after: 6h, transition: expire } }
              done: { final: true }
            transitions: { expire: { from: waiting, to: done } }
            triggers:
              - { name: sweep, cron: "0 3 * * *", timezone: Europe/Berlin, transition: expire, where: { state: waiting } }
            """)
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)
        try await cluster.waitForWorkflow(on: leader, name: "markup")
        try await cluster.waitForWorkflow(on: leader, name: "nightly")
        // The page is served by a follower, so it outlives the leader it watches.
        let page = [1, 2, 3].first { $0 != leader }!
        let server = cluster.nodes[page]!.url

        // Seed through the CLI: 2 in first, 2 in second, 1 in third.
        for id in ["w1", "w2", "w3", "w4", "w5"] {
            let started = try cluster.cli(["start", "cookbook", "--id", id, "--server", server])
            XCTAssertEqual(started.status, 0, started.stderr)
        }
        let nightly = try cluster.cli(["start", "nightly", "--id", "n1", "--server", server])
        XCTAssertEqual(nightly.status, 0, nightly.stderr)
        for (id, transitions) in [("w3", ["second"]), ("w4", ["second"]), ("w5", ["second", "third"])] {
            for transition in transitions {
                let moved = try cluster.cli(["submit", id, transition, "--server", server])
                XCTAssertEqual(moved.status, 0, moved.stderr)
            }
        }

        let config: [String: Any] = [
            "url": server, "leader": leader, "leader_pid": Int(cluster.nodes[leader]!.process!.processIdentifier),
            "binary": ProcessCluster.binary.path, "screenshots": screenshots.path,
            "counts": ["first": 2, "second": 2, "third": 1], "instance": "w1", "total": 6,
            "trigger": ["workflow": "nightly", "name": "sweep", "cron": "0 3 * * *", "timezone": "Europe/Berlin",
                        "next_fire": #"\d{4}-\d\d-\d\dT03:00:00(\.000)?\+0[12]:00"#, "instance": "n1"],
        ]
        let (status, output) = try Self.runCheck(python, config)
        print(output)
        XCTAssertEqual(status, 0, "the browser check failed:\n\(output)\n\(cluster.logTails(lines: 15))")
        XCTAssertTrue(output.contains("OK new_leader="), output)
        for name in ["overview", "schedules", "workflow", "instances", "instance", "failover"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: screenshots.appendingPathComponent("\(name).png").path),
                          "screenshot \(name).png")
        }
    }

    /// With tokens on, the page asks for one (the API answered 401), keeps it in the tab's
    /// session storage and sends it on every request and on the event stream.
    func testTheDashboardAsksForATokenWhenTheAPINeedsOne() async throws {
        let python = try Self.requireBrowser()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("orch-dashboard-auth-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let adminFile = scratch.appendingPathComponent("admin.token").path
        let cluster = try ProcessCluster(count: 1, extraArguments: ["--bootstrap-token-file", adminFile])
        defer { cluster.stop() }
        try cluster.startAll()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: adminFile), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let admin = try String(contentsOfFile: adminFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        cluster.token = admin
        let leader = try await cluster.waitForLeader()
        let (status, _) = try await ProcessCluster.request("GET", url: cluster.nodes[1]!.url + "/v1/stats")
        XCTAssertEqual(status, 401, "the API needs a token")

        let config: [String: Any] = ["url": cluster.nodes[1]!.url, "leader": leader, "screenshots": scratch.path, "token": admin]
        let (exit, output) = try Self.runCheck(python, config)
        XCTAssertEqual(exit, 0, "the browser check failed:\n\(output)\n\(cluster.logTails(lines: 15))")
        XCTAssertTrue(output.contains("OK token"), output)
    }

    /// The python3 that can import selenium, after checking that Chromium and its driver are
    /// installed; throws (failing the test, with what to install) otherwise.
    static func requireBrowser() throws -> String {
        let install = "apt-get install -y chromium chromium-driver python3-selenium (.ci/run does)"
        for tool in [chromium, chromedriver] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw BrowserMissing(what: "\(tool) is missing: \(install)")
        }
        guard let python = pythonWithSelenium() else {
            throw BrowserMissing(what: "no python3 that can import selenium (Debian's python3-selenium): \(install)")
        }
        return python
    }

    struct BrowserMissing: Error, CustomStringConvertible {
        let what: String
        var description: String { what }
    }

    /// Runs `browser/dashboard_check.py` with `config`.
    static func runCheck(_ python: String, _ config: [String: Any]) throws -> (Int32, String) {
        let script = ProcessCluster.repository.appendingPathComponent("Tests/IntegrationTests/browser/dashboard_check.py")
        let arguments = [script.path, String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)]
        return try run(python, arguments, timeoutSeconds: 90)
    }

    /// The first python3 that can import selenium (Debian's lives in /usr/bin; another
    /// python3 earlier on PATH may lack it).
    static func pythonWithSelenium() -> String? {
        ["/usr/bin/python3", "/usr/local/bin/python3"].first { candidate in
            FileManager.default.isExecutableFile(atPath: candidate)
                && (try? run(candidate, ["-c", "import selenium"], timeoutSeconds: 20))?.0 == 0
        }
    }

    /// Runs `executable` with `arguments`; its exit status and output (stdout and stderr
    /// together). Killed after `timeoutSeconds`.
    static func run(_ executable: String, _ arguments: [String], timeoutSeconds: Double) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: timer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
