import XCTest

/// `orchestrator plugins list|run` on the repository's example plugins, copied into a
/// temporary directory.
extension CLITests {
    private func copyExamplePlugins() throws {
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("plugins"),
                                         to: directory.appendingPathComponent("plugins"))
    }

    func testPluginsListShowsTheExamplesAndExitsTwoOnlyForErrors() throws {
        try copyExamplePlugins()
        let listed = try run("plugins", "list")
        XCTAssertEqual(listed.status, 0, listed.stderr)
        for name in ["notify", "http-post", "flaky", "task"] {
            XCTAssertTrue(listed.stdout.contains(name), "\(name) listed: \(listed.stdout)")
        }
        try write("plugins/notes", "not a plugin")
        let warned = try run("plugins", "list")
        XCTAssertEqual(warned.status, 0, "a file that is not executable is a warning")
        XCTAssertTrue(warned.stderr.contains("plugins/notes: warning: is not executable"), warned.stderr)
        try write("plugins/broken/plugin.yaml", "command: [run]\ntimout: 5s\n")
        let broken = try run("plugins", "list")
        XCTAssertEqual(broken.status, 2, "a manifest error is an error")
        XCTAssertTrue(broken.stderr.contains("plugins/broken/plugin.yaml:2:1: error:"), broken.stderr)
    }

    func testPluginsRunRunsAPluginAsTheServerWouldAndSaysHowItEnded() throws {
        try copyExamplePlugins()
        let first = try run("plugins", "run", "flaky", "--with", #"{"failures":2}"#)
        XCTAssertEqual(first.status, 1, "attempt 1 of a plugin failing twice: \(first.stdout) \(first.stderr)")
        XCTAssertTrue(first.stdout.contains("retryable failure (exit 75)"), first.stdout)
        let third = try run("plugins", "run", "flaky", "--with", #"{"failures":2}"#, "--event", #"{"attempt":3}"#, "--json")
        XCTAssertEqual(third.status, 0, third.stdout + third.stderr)
        XCTAssertTrue(third.stdout.contains(#""data_patch":{"flaky_ok":true}"#), third.stdout)
        XCTAssertTrue(third.stdout.contains(#""outcome":"succeeded""#), third.stdout)
        let missing = try run("plugins", "run", "nope")
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no plugin named 'nope'"), missing.stderr)
    }
}
