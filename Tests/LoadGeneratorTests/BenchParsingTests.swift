@testable import LoadGenerator
import NIOCore
import XCTest

/// The load generator's small parsers: the top-level member scan and the server URL split.
final class BenchParsingTests: XCTestCase {
    func testTopLevelScanFindsOnlyTopLevelStringMembers() {
        func scan(_ key: String, _ json: String) -> String? { TopLevelJSON.string(key, in: ByteBuffer(string: json)) }
        let answer = #"{"data":{"state":"nested"},"from":"first","list":[{"state":"x"},"]"],"n":-1.5e3,"ok":true,"state":"second","to":"second"}"#
        XCTAssertEqual(scan("state", answer), "second")
        XCTAssertEqual(scan("from", answer), "first")
        XCTAssertNil(scan("n", answer), "not a string")
        XCTAssertNil(scan("missing", answer))
        XCTAssertEqual(scan("state", #" { "id" : "o-1" , "state" : "caf\u00e9 \"q\"" } "#), "café \"q\"")
        for broken in ["", "[]", "{", #"{"state""#, #"{"state":"unterminated"#, #"{"a":{"b":1}"#, "{\"a\" 1}"] {
            XCTAssertNil(scan("state", broken), broken)
        }
    }

    func testServerURLsSplitIntoHostAndPort() throws {
        XCTAssertTrue(try Bench.hostAndPort("http://127.0.0.1:8080") == ("127.0.0.1", 8080))
        XCTAssertTrue(try Bench.hostAndPort("localhost:9000/") == ("localhost", 9000))
        XCTAssertTrue(try Bench.hostAndPort("http://[::1]:7000") == ("::1", 7000))
        XCTAssertTrue(try Bench.hostAndPort("http://localhost") == ("localhost", 80))
        XCTAssertTrue(try Bench.hostAndPort("https://127.0.0.1:8443") == ("127.0.0.1", 8443))
        XCTAssertTrue(try Bench.hostAndPort("https://localhost") == ("localhost", 443))
        for bad in ["ftp://127.0.0.1:8080", "http://:80", "http://127.0.0.1:99999", "http://127.0.0.1:x"] {
            XCTAssertThrowsError(try Bench.hostAndPort(bad), bad) { XCTAssertTrue($0 is BenchError) }
        }
    }
}
