import APIModels
import Foundation
import JSON
import XCTest

/// Checks that a model's two codings cannot drift: what the server writes fast (`json`
/// through `JSONWriter`) decodes with `JSONDecoder` to the same value, and the `Encodable`
/// encoding has the same keys and values as `json`. Returns the fast path's text.
@discardableResult
func assertCodingsAgree<Model: JSONWritable & Decodable & Equatable>(
    _ model: Model, file: StaticString = #filePath, line: UInt = #line
) throws -> String {
    let fast = JSONWriter.bytes(model.json)
    XCTAssertEqual(try JSONDecoder().decode(Model.self, from: Data(fast)), model, "fast path → JSONDecoder",
                   file: file, line: line)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let encoded = try encoder.encode(model)
    XCTAssertEqual(try JSONBody.parse(Array(encoded)), model.json, "JSONEncoder → the same tree as json",
                   file: file, line: line)
    return String(decoding: fast, as: UTF8.self)
}
