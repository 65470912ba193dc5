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
        let python = try XCTUnwrap(Self.pythonWithSelenium(), """
            no python3 that can import selenium: install Debian's python3-selenium \
            (apt-get install -y chromium chromium-driver python3-selenium)
            """)
        for tool in [Self.chromium, Self.chromedriver] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                XCTFail("\(tool) is missing: apt-get install -y chromium chromium-driver python3-selenium")
                return
            }
        }
        let screenshots = FileManager.default.temporaryDirectory.appendingPathComponent("orch-dashboard-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        print("dashboard screenshots: \(screenshots.path)")

        let cluster = try ProcessCluster(count: 3)
        defer { cluster.stop() }
        try cluster.startAll()
        let leader = try await cluster.waitForLeader()
        try await cluster.waitForWorkflow(on: leader)
        // The page is served by a follower, so it outlives the leader it watches.
        let page = [1, 2, 3].first { $0 != leader }!
        let server = cluster.nodes[page]!.url

        // Seed through the CLI: 2 in first, 2 in second, 1 in third.
        for id in ["w1", "w2", "w3", "w4", "w5"] {
            let started = try cluster.cli(["start", "cookbook", "--id", id, "--server", server])
            XCTAssertEqual(started.status, 0, started.stderr)
        }
        for (id, transitions) in [("w3", ["second"]), ("w4", ["second"]), ("w5", ["second", "third"])] {
            for transition in transitions {
                let moved = try cluster.cli(["submit", id, transition, "--server", server])
                XCTAssertEqual(moved.status, 0, moved.stderr)
            }
        }

        let config: [String: Any] = [
            "url": server, "leader": leader, "leader_pid": Int(cluster.nodes[leader]!.process!.processIdentifier),
            "binary": ProcessCluster.binary.path, "screenshots": screenshots.path,
            "counts": ["first": 2, "second": 2, "third": 1], "instance": "w1",
        ]
        let script = ProcessCluster.repository.appendingPathComponent("Tests/IntegrationTests/browser/dashboard_check.py")
        let arguments = [script.path, String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)]
        let (status, output) = try Self.run(python, arguments, timeoutSeconds: 90)
        print(output)
        XCTAssertEqual(status, 0, "the browser check failed:\n\(output)\n\(cluster.logTails(lines: 15))")
        XCTAssertTrue(output.contains("OK new_leader="), output)
        for name in ["overview", "workflow", "instances", "instance", "failover"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: screenshots.appendingPathComponent("\(name).png").path),
                          "screenshot \(name).png")
        }
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
