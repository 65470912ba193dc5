import JSON
import XCTest

/// The strict parser: every kind of value, and junk refused with a position.
final class JSONBodyTests: XCTestCase {
    func testParserReadsEveryKindOfValue() throws {
        let value = try JSONBody.parse(Array(#" {"a":[1,-2.5e3,true,false,null],"s":"q\"\\\/\n\u00e9\ud83d\ude00","o":{}} "#.utf8))
        XCTAssertEqual(value, .object(["a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]),
                                       "s": .string("q\"\\/\né😀"), "o": .object([:])]))
    }

    func testParserRefusesJunkWithAPosition() {
        for junk in ["", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1 2]", "01", "1.", "\"\\x\"", "\"\u{01}\"", "{\"a\":1}x",
                     "{\"a\":1,\"a\":2}", "\"\\ud800\"", "nul", "1e999", String(repeating: "[", count: 200)] {
            XCTAssertThrowsError(try JSONBody.parse(Array(junk.utf8)), junk)
        }
        XCTAssertThrowsError(try JSONBody.parseObject(Array("[]".utf8)))
        do {
            _ = try JSONBody.parseObject(Array(#"{"a":tru}"#.utf8))
            XCTFail("expected a syntax error")
        } catch {
            XCTAssertEqual(error.offset, 5)
            XCTAssertEqual(error.description, "invalid JSON at byte 5: expected 'true'")
        }
    }
}
