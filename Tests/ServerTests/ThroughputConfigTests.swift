import Foundation
import Server
import XCTest

/// `--batch-delay` / `batch_delay` and `--http-threads` / `http_threads`: read, checked,
/// handed to the node, and named in errors.
final class ThroughputConfigTests: XCTestCase {
    private func load(_ yaml: String) throws(ConfigError) -> ServerConfig { try loadConfigFile(yaml) }

    func testTheDefaultsBatchNothingAndShareTheNodeLoop() {
        let config = ServerConfig()
        XCTAssertEqual(config.batchDelayMicros, 0)
        XCTAssertEqual(config.httpThreads, 1)
        XCTAssertEqual(config.clusterConfig.proposalBatchDelayMicros, 0)
    }

    func testBatchDelaysAreReadInMillisecondsOrMicroseconds() throws {
        XCTAssertEqual(try ServerConfig.parseBatchDelay("2ms"), 2_000)
        XCTAssertEqual(try ServerConfig.parseBatchDelay("500us"), 500)
        XCTAssertEqual(try ServerConfig.parseBatchDelay("0"), 0)
        XCTAssertEqual(try ServerConfig.parseBatchDelay("0ms"), 0)
        XCTAssertEqual(try ServerConfig.parseBatchDelay("20ms"), 20_000)
        XCTAssertEqual(ServerConfig.spellBatchDelay(2_000), "2ms")
        XCTAssertEqual(ServerConfig.spellBatchDelay(500), "500us")
        for bad in ["21ms", "1s", "2", "-1ms", "ms", "2 ms", "1.5ms", "20001us", "+2ms", ""] {
            XCTAssertThrowsError(try ServerConfig.parseBatchDelay(bad), bad) { error in
                XCTAssertEqual("\(error)", "--batch-delay: '\(bad)' is not a delay between 0 and 20ms, such as 2ms, 500us or 0")
            }
        }
    }

    func testTheConfigFileSetsBothAndTheNodeGetsTheDelay() throws {
        let config = try load("batch_delay: 1500us\nhttp_threads: 4\n")
        XCTAssertEqual(config.batchDelayMicros, 1_500)
        XCTAssertEqual(config.httpThreads, 4)
        XCTAssertEqual(config.clusterConfig.proposalBatchDelayMicros, 1_500)
        XCTAssertNoThrow(try config.validate())
    }

    func testABadValueInTheConfigFileNamesItsPlace() {
        XCTAssertThrowsError(try load("node_id: 1\nbatch_delay: 1s\n")) { error in
            XCTAssertEqual("\(error)", "FILE:2:1: '1s' is not a delay between 0 and 20ms, such as 2ms, 500us or 0")
        }
        XCTAssertThrowsError(try load("http_threads: 300\n")) { error in
            XCTAssertEqual("\(error)", "FILE:1:1: 300 threads is out of range: use 1 to 256")
        }
    }

    func testValidateRefusesValuesSetOutOfRange() {
        var config = ServerConfig()
        config.batchDelayMicros = 25_000
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual("\(error)", "--batch-delay must be between 0 and 20ms, not 25000 µs")
        }
        config = ServerConfig()
        config.httpThreads = 0
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual("\(error)", "--http-threads must be between 1 and 256, not 0")
        }
    }
}
