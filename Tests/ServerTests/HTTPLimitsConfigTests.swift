import API
import Foundation
import Server
import XCTest

/// The HTTP listener's limits as `--config` keys: read, checked, and named in errors.
final class HTTPLimitsConfigTests: XCTestCase {
    private func load(_ yaml: String) throws(ConfigError) -> ServerConfig { try loadConfigFile(yaml) }

    func testTheDefaults() {
        let limits = ServerConfig().httpLimits
        XCTAssertEqual(limits, HTTPListenerLimits(requestHeadTimeoutMillis: 10_000, bodyReadTimeoutMillis: 30_000,
                                                  idleTimeoutMillis: 60_000, responseWriteTimeoutMillis: 30_000, connectionsMax: 4_096))
    }

    func testTheConfigFileSetsEachLimit() throws {
        let config = try load("""
            http_header_timeout: 2s
            http_body_timeout: 1m
            http_idle_timeout: 1500ms
            http_write_timeout: 45s
            http_max_connections: 100
            """)
        XCTAssertEqual(config.httpLimits, HTTPListenerLimits(requestHeadTimeoutMillis: 2_000, bodyReadTimeoutMillis: 60_000,
                                                             idleTimeoutMillis: 1_500, responseWriteTimeoutMillis: 45_000,
                                                             connectionsMax: 100))
        XCTAssertNoThrow(try config.validate())
    }

    func testABadLimitInTheConfigFileNamesItsPlace() {
        XCTAssertThrowsError(try load("node_id: 1\nhttp_header_timeout: 10\n")) { error in
            XCTAssertEqual("\(error)", "FILE:2:1: '10' is not a duration between 100ms and 24h, such as 10s, 500ms or 1m")
        }
        XCTAssertThrowsError(try load("http_idle_timeout: 2d\n")) { error in
            XCTAssertEqual("\(error)", "FILE:1:1: '2d' is not a duration between 100ms and 24h, such as 10s, 500ms or 1m")
        }
        XCTAssertThrowsError(try load("http_max_connections: 2000000\n")) { error in
            XCTAssertEqual("\(error)", "FILE:1:1: 2000000 connections is out of range: use 1 to 1000000")
        }
    }

    func testValidateRefusesLimitsSetOutOfRange() {
        var config = ServerConfig()
        config.httpLimits.bodyReadTimeoutMillis = 10
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual("\(error)", "--http-body-timeout must be between 100ms and 24h, not 10 ms")
        }
    }

    func testTheOpenFileLimitIsRaisedToTheHardLimit() {
        let soft = OpenFileLimit.raiseToHard()
        var limit = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit), 0)
        XCTAssertEqual(soft.map(rlim_t.init), limit.rlim_cur)
        XCTAssertGreaterThanOrEqual(limit.rlim_cur, min(limit.rlim_max, rlim_t(OpenFileLimit.raisedMax)))
    }
}
