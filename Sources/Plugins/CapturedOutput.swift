import Subprocess

/// One output stream of a run: the first `bytesMax` bytes kept, the rest read and counted
/// but dropped, so a plugin that writes without end neither blocks on a full pipe nor costs
/// more memory than the cap.
struct CapturedOutput: Sendable {
    /// The bytes kept, at most the cap.
    var bytes: [UInt8] = []
    /// Every byte read, kept or not.
    var bytesTotal = 0

    /// True when more was written than kept.
    var truncated: Bool { bytesTotal > bytes.count }

    /// Reads `stream` to its end (EOF, or the plugin's exit), keeping at most `bytesMax` bytes.
    /// A read error ends the capture with what was read so far.
    static func read(_ stream: SubprocessOutputSequence, bytesMax: Int) async -> CapturedOutput {
        var captured = CapturedOutput()
        do {
            for try await buffer in stream {
                captured.bytesTotal += buffer.count
                let room = bytesMax - captured.bytes.count
                guard room > 0 else { continue }
                buffer.withUnsafeBytes { raw in
                    captured.bytes.append(contentsOf: raw.prefix(room))
                }
            }
        } catch {
            // The stream failed (e.g. the descriptor was closed under it): keep what we have.
        }
        return captured
    }

    /// The kept bytes as text, invalid UTF-8 replaced by U+FFFD. When the cap cut a character
    /// in two, its first bytes are dropped rather than shown as a replacement character.
    var text: String {
        String(decoding: truncated ? Self.withoutCutCharacter(bytes[...]) : bytes[...], as: UTF8.self)
    }

    /// `bytes` without a trailing incomplete UTF-8 sequence (a lead byte followed by fewer
    /// continuation bytes than it announces).
    static func withoutCutCharacter(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var index = bytes.endIndex
        var continuations = 0
        while index > bytes.startIndex, continuations < 3 {
            let byte = bytes[index - 1]
            if byte & 0xC0 == 0x80 {
                continuations += 1
                index -= 1
                continue
            }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return length > 1 && continuations + 1 < length ? bytes[..<(index - 1)] : bytes
        }
        return bytes
    }
}
