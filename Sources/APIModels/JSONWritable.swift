import JSON

/// A wire shape of the HTTP API that the server writes without `JSONEncoder`: `json` has
/// exactly the keys and values of the type's `Encodable` encoding (APIModelsTests checks
/// both directions for every model), so `JSONWriter.bytes(model.json)` says what
/// `JSONEncoder` with sorted keys would, without Foundation and faster.
///
/// ```swift
/// JSONWriter.bytes(TransferBody(to: 2).json)   // the bytes of {"to":2}
/// ```
public protocol JSONWritable: Encodable {
    /// The value as a JSON tree, keyed as its `Encodable` encoding is (snake_case).
    var json: JSONValue { get }
}
