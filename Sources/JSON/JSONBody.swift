/// The one JSON parser: small and strict, for request bodies and anything else read as JSON
/// in one process: bytes in, `JSONValue` out, or an error that says where and what. Faster
/// than `JSONDecoder` into `JSONValue` (no thrown probes per value) and bounded: nesting
/// deeper than `depthMax` is refused.
///
/// ```swift
/// let object = try JSONBody.parseObject(Array(#"{"transition":"pay"}"#.utf8))
/// object["transition"]   // .string("pay")
/// ```
public enum JSONBody {
    /// Deepest nesting accepted (objects and arrays), matching the engine's decode guard.
    public static let depthMax = 128

    /// A syntax error at a byte offset.
    public struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Where, counted in bytes from the start of the text.
        public var offset: Int
        /// What is wrong, for people.
        public var reason: String
        /// `invalid JSON at byte N: reason`.
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    /// Parses `bytes` as one JSON object (the only body shape the API takes).
    public static func parseObject(_ bytes: [UInt8]) throws(SyntaxError) -> [String: JSONValue] {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        guard parser.peek == UInt8(ascii: "{") else {
            throw SyntaxError(offset: parser.position, reason: parser.atEnd ? "the body is empty; send a JSON object"
                                                                            : "the body must be a JSON object")
        }
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.atEnd else { throw SyntaxError(offset: parser.position, reason: "unexpected text after the object") }
        guard case .object(let object) = value else { throw SyntaxError(offset: 0, reason: "the body must be a JSON object") }
        return object
    }

    /// Parses `bytes` as any JSON value.
    public static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.atEnd else { throw SyntaxError(offset: parser.position, reason: "unexpected text after the value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        func fail(_ reason: String) -> SyntaxError { SyntaxError(offset: position, reason: reason) }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
            skipSpace()
            guard let byte = peek else { throw fail("unexpected end of the body") }
            switch byte {
            case UInt8(ascii: "{"):
                guard depth < JSONBody.depthMax else { throw fail("nested deeper than \(JSONBody.depthMax) levels") }
                return .object(try object(depth: depth + 1))
            case UInt8(ascii: "["):
                guard depth < JSONBody.depthMax else { throw fail("nested deeper than \(JSONBody.depthMax) levels") }
                return .array(try array(depth: depth + 1))
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try number())
            default:
                throw fail("unexpected character '\(Unicode.Scalar(byte))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw fail("unexpected end of the body") }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            for offset in 0..<count where bytes[position + offset] != expected[offset] {
                throw fail("expected '\(word)'")
            }
            position += count
        }

        mutating func object(depth: Int) throws(SyntaxError) -> [String: JSONValue] {
            position += 1   // {
            var members: [String: JSONValue] = [:]
            skipSpace()
            if peek == UInt8(ascii: "}") {
                position += 1
                return members
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw fail("expected a member name in double quotes") }
                let key = try string()
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after member name \"\(key)\"") }
                position += 1
                let element = try value(depth: depth)
                guard members.updateValue(element, forKey: key) == nil else { throw fail("duplicate member \"\(key)\"") }
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return members
                default: throw fail("expected ',' or '}' in an object")
                }
            }
        }

        mutating func array(depth: Int) throws(SyntaxError) -> [JSONValue] {
            position += 1   // [
            var elements: [JSONValue] = []
            skipSpace()
            if peek == UInt8(ascii: "]") {
                position += 1
                return elements
            }
            while true {
                elements.append(try value(depth: depth))
                skipSpace()
                switch peek {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"):
                    position += 1
                    return elements
                default: throw fail("expected ',' or ']' in an array")
                }
            }
        }

        mutating func string() throws(SyntaxError) -> String {
            position += 1   // opening quote
            let start = position
            // Fast path: no escapes.
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: bytes[start..<position], as: UTF8.self)
                    position += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw fail("control character in a string; escape it") }
                position += 1
            }
            var scalars = Array(bytes[start..<position])
            while position < bytes.count {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "\""):
                    position += 1
                    return String(decoding: scalars, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    position += 1
                    guard let escaped = peek else { throw fail("unexpected end of the body in a string") }
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "\""): scalars.append(0x22)
                    case UInt8(ascii: "\\"): scalars.append(0x5C)
                    case UInt8(ascii: "/"): scalars.append(0x2F)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                                  bytes[position + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate in \\u escape") }
                            position += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid low surrogate in \\u escape") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(code) {
                            throw fail("unpaired surrogate in \\u escape")
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
                        scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        throw fail("invalid escape '\\\(Unicode.Scalar(escaped))'")
                    }
                default:
                    guard byte >= 0x20 else { throw fail("control character in a string; escape it") }
                    scalars.append(byte)
                    position += 1
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("unexpected end of the body in a \\u escape") }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("invalid hex digit in a \\u escape")
                }
                code = code << 4 | UInt32(digit)
                position += 1
            }
            return code
        }

        mutating func number() throws(SyntaxError) -> Double {
            let start = position
            if peek == UInt8(ascii: "-") { position += 1 }
            func digits(_ parser: inout Parser) -> Int {
                var count = 0
                while let byte = parser.peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    parser.position += 1
                    count += 1
                }
                return count
            }
            let integerStart = position
            guard digits(&self) > 0 else { throw fail("expected digits in a number") }
            if bytes[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 { throw fail("leading zero in a number") }
            if peek == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw fail("expected digits after '.'") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw fail("expected digits in an exponent") }
            }
            guard let value = Double(String(decoding: bytes[start..<position], as: UTF8.self)), value.isFinite else {
                throw SyntaxError(offset: start, reason: "number out of range")
            }
            return value
        }
    }
}
