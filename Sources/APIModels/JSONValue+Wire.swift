import JSON

/// The few spellings the models' `json` share.
extension JSONValue {
    /// An integer on the wire; exact below 2^53, as every id, index, term and count is.
    static func integer(_ value: UInt64) -> JSONValue { .number(Double(value)) }

    /// An integer on the wire (versions, line and column numbers).
    static func integer(_ value: Int) -> JSONValue { .number(Double(value)) }

    /// The string, or `null`: the answers write an absent value as null, not by leaving the key out.
    static func orNull(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    /// The integer, or `null`.
    static func orNull(_ value: UInt64?) -> JSONValue { value.map(integer) ?? .null }

    /// The models' trees, in order.
    static func list(_ models: [some JSONWritable]) -> JSONValue { .array(models.map(\.json)) }
}
