import JSON
import XCTest

/// The one writer, and `jsonText`, which is the same writer as a String.
final class JSONWriterTests: XCTestCase {
    func testWriterSortsKeysAndEscapes() {
        let text = String(decoding: JSONWriter.bytes(.object(["b": .number(2), "a": .string("x\"\n\u{01}"), "c": .number(0.5)])),
                          as: UTF8.self)
        XCTAssertEqual(text, #"{"a":"x\"\n\u0001","b":2,"c":0.5}"#)
    }

    func testNumbersAreIntegralBelowTwoToThe53AndNullWhenNotFinite() {
        XCTAssertEqual(JSONValue.array([3, -0.0, 9_007_199_254_740_991, 1e300, .number(.infinity), .number(.nan)]).jsonText,
                       "[3,0,9007199254740991,1e+300,null,null]")
    }

    func testJSONTextIsTheWritersOutput() throws {
        let value: JSONValue = ["z": [1, "two", nil, true], "a": ["nested": "é \"q\" \t"]]
        XCTAssertEqual(Array(value.jsonText.utf8), JSONWriter.bytes(value))
        XCTAssertEqual(value.jsonText, #"{"a":{"nested":"é \"q\" \t"},"z":[1,"two",null,true]}"#)
        XCTAssertEqual(try JSONBody.parse(Array(value.jsonText.utf8)), value)
    }
}
