import Foundation
import JSON
import XCTest

/// Decoding (with Foundation's decoder), literals and the accessors.
final class JSONValueTests: XCTestCase {
    func testDecodingKeepsBooleansNumbersAndStringsApart() throws {
        let text = #"{"t":true,"n":1,"s":"1","z":null,"a":[false,0],"o":{}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        XCTAssertEqual(value, ["t": true, "n": 1, "s": "1", "z": nil, "a": [false, 0], "o": [:]])
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value)), value)
    }

    func testLiteralsAndAccessors() {
        let value: JSONValue = ["s": "x", "n": 2.5, "a": [1], "gone": nil]
        XCTAssertEqual(value.objectValue?["s"]?.stringValue, "x")
        XCTAssertEqual(value.objectValue?["n"]?.numberValue, 2.5)
        XCTAssertEqual(value.objectValue?["a"]?.arrayValue, [.number(1)])
        XCTAssertEqual(value.objectValue?["gone"], .null)
        XCTAssertNil(value.stringValue)
        XCTAssertNil(value.arrayValue)
    }
}
