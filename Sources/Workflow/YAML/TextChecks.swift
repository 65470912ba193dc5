/// Checks made on the raw text before the YAML parser sees it: size, encoding, and
/// characters that mark a binary file. Each returns at most one problem, because a file
/// that fails them is not worth parsing.
enum TextChecks {
    /// The first problem that makes `bytes` unfit to parse, if any.
    static func check(bytes: [UInt8], limits: WorkflowLimits) -> YAMLComposer.Problem? {
        if bytes.count > limits.documentBytesMax {
            return YAMLComposer.Problem(
                message: "file is \(bytes.count) bytes, over the limit of \(limits.documentBytesMax) bytes for a workflow definition",
                position: .start)
        }
        if let offset = firstInvalidUTF8(bytes) {
            let byte = String(bytes[offset], radix: 16, uppercase: true)
            return YAMLComposer.Problem(
                message: "file is not valid UTF-8 (byte 0x\(byte.count == 1 ? "0" + byte : byte)); is it a binary file?",
                position: position(ofByte: offset, in: bytes))
        }
        return checkCharacters(bytes)
    }

    /// The first flow bracket (`[` or `{`) nested deeper than `depthMax`, found by a quick
    /// scan that skips comments and quoted scalars. libyaml's scanner looks ahead up to 1024
    /// characters and has its own limit of 1000 levels, which it reports at 1:1; this scan
    /// finds the real position first. (Block nesting is checked as the parser reads.)
    static func checkFlowDepth(_ bytes: [UInt8], depthMax: Int) -> YAMLComposer.Problem? {
        var depth = 0
        var index = 0
        var previous: UInt8 = UInt8(ascii: "\n")
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "#") where isSeparator(previous):
                while index < count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            case UInt8(ascii: "'") where isSeparator(previous) || isFlowIndicator(previous):
                index += 1
                while index < count {
                    if bytes[index] == UInt8(ascii: "'") {
                        if index + 1 < count, bytes[index + 1] == UInt8(ascii: "'") { index += 2; continue }
                        break
                    }
                    index += 1
                }
            case UInt8(ascii: "\"") where isSeparator(previous) || isFlowIndicator(previous):
                index += 1
                while index < count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > depthMax {
                    return YAMLComposer.Problem(message: "nesting is deeper than \(depthMax) levels; a workflow needs only a few",
                                                position: position(ofByte: index, in: bytes))
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
            default:
                break
            }
            previous = index < count ? bytes[index] : 0
            index += 1
        }
        return nil
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    private static func isFlowIndicator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":")
    }

    /// YAML allows tab, line feed, carriage return and printable characters; a NUL or other
    /// control character almost always means a binary file.
    static func checkCharacters(_ bytes: [UInt8]) -> YAMLComposer.Problem? {
        var offset = 0
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            let value = scalar.value
            let allowed = value == 0x09 || value == 0x0A || value == 0x0D || (value >= 0x20 && value <= 0x7E)
                || value == 0x85 || (value >= 0xA0 && value <= 0xD7FF) || (value >= 0xE000 && value <= 0xFFFD)
                || value >= 0x10000
            if !allowed {
                let hex = String(value, radix: 16, uppercase: true)
                let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                return YAMLComposer.Problem(
                    message: "file contains the control character \(code); is it a binary file?",
                    position: position(ofByte: offset, in: bytes))
            }
            offset += UTF8.width(scalar)
        }
        return nil
    }

    /// The offset of the first byte that is not part of a well-formed UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var minimumSecond: UInt8 = 0x80
            var maximumSecond: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; minimumSecond = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; maximumSecond = 0x9F
            case 0xF0: length = 4; minimumSecond = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; maximumSecond = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            let second = bytes[index + 1]
            guard second >= minimumSecond, second <= maximumSecond else { return index }
            for next in (index + 2)..<(index + length) where bytes[next] & 0xC0 != 0x80 { return index }
            index += length
        }
        return nil
    }

    /// The 1-based line and column (in Unicode scalars) of a byte offset.
    static func position(ofByte offset: Int, in bytes: [UInt8]) -> SourcePosition {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1  // count the lead byte of each scalar only
            }
            index += 1
        }
        return SourcePosition(line: line, column: column)
    }
}
