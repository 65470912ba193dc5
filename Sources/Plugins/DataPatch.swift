import Workflow

/// The merge rule: a plugin asks to merge data into the instance by making the last
/// non-empty line of its stdout a JSON object.
enum DataPatch {
    /// Splits stdout into the text to keep and the data patch. The last non-empty line (blank
    /// means only spaces, tabs and `\r`) becomes the patch when it parses as a JSON object
    /// whose sorted-key encoding is at most `bytesMax` bytes, and when stdout was not
    /// truncated (then the real last line is unknown). The patch's line is removed from the
    /// text; in every other case the text is all of stdout and the patch is nil.
    static func split(_ stdout: CapturedOutput, bytesMax: Int) -> (text: String, patch: [String: JSONValue]?) {
        guard !stdout.truncated, let line = lastNonEmptyLine(stdout.bytes) else { return (stdout.text, nil) }
        let trimmed = trim(stdout.bytes[line])
        guard trimmed.first == UInt8(ascii: "{"),
              let object = try? JSONBody.parseObject(Array(trimmed)),
              JSONWriter.bytes(.object(object)).count <= bytesMax else { return (stdout.text, nil) }
        return (String(decoding: stdout.bytes[..<line.lowerBound], as: UTF8.self), object)
    }

    /// The byte range of the last line with something other than blanks, without its `\n`.
    static func lastNonEmptyLine(_ bytes: [UInt8]) -> Range<Int>? {
        var end = bytes.count
        while end > 0 {
            var start = end
            while start > 0, bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
            if !trim(bytes[start..<end]).isEmpty { return start..<end }
            end = start - 1
        }
        return nil
    }

    private static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        var slice = bytes
        while let first = slice.first, isBlank(first) { slice = slice.dropFirst() }
        while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
        return slice
    }
}
