/// Why bytes from the wire could not be decoded. Every decoding failure is one of these:
/// the decoder never traps and never allocates more than the bytes it was given.
///
/// `offset` is the byte position of the problem, counted from the first byte the decoder
/// saw (for ``FrameDecoder``: from the start of the connection).
///
/// ```
/// bad magic 0x47 0x45 0x54 0x20 (expected "ORFT") at byte 0
/// append.entries count 4294967295 needs at least 90194313195 bytes but 0 remain at byte 59
/// ```
public struct WireError: Error, CustomStringConvertible, Hashable, Sendable {
    /// What was wrong.
    public enum Kind: Hashable, Sendable {
        /// The first four bytes of a frame were not `"ORFT"`.
        case badMagic([UInt8])
        /// A frame of a wire version this build does not speak.
        case unsupportedVersion(UInt8)
        /// A frame type byte this version does not define.
        case unknownFrameType(UInt8)
        /// A frame's declared size (header + body) exceeds the receiver's `maxFrameBytes`.
        case frameTooLarge(bytes: Int, maxFrameBytes: Int)
        /// A field needed more bytes than the frame (or the input) holds.
        case truncated(field: String, neededBytes: Int, remainingBytes: Int)
        /// A count or length that cannot fit in the bytes that remain (a forged count).
        case countExceedsRemaining(field: String, count: UInt64, minimumBytes: UInt64, remainingBytes: Int)
        /// A payload tag this version does not define.
        case unknownPayloadTag(UInt8)
        /// An entry kind this version does not define.
        case unknownEntryKind(UInt8)
        /// A boolean byte that is neither 0 nor 1.
        case invalidBool(field: String, value: UInt8)
        /// Node id 0 ("none") where a real node is required.
        case zeroNodeID(field: String)
        /// A number outside the range its field allows.
        case valueOutOfRange(field: String, value: UInt64)
        /// A membership list names the same node twice, or a node as both voter and learner.
        case duplicateMember(field: String, node: UInt64)
        /// A text field that is not valid UTF-8 or is empty where it must not be.
        case invalidText(field: String)
        /// Bytes left in a frame body after its last field.
        case trailingBytes(Int)
        /// The input ended in the middle of a frame (only from whole-input decoding).
        case incompleteFrame(haveBytes: Int)
    }

    public var kind: Kind
    /// Byte position of the problem (see the type's documentation).
    public var offset: Int

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String { "\(kindDescription) at byte \(offset)" }

    private var kindDescription: String {
        switch kind {
        case .badMagic(let bytes):
            return "bad magic \(bytes.map { "0x" + String($0, radix: 16, uppercase: true) }.joined(separator: " ")) (expected \"ORFT\")"
        case .unsupportedVersion(let version):
            return "unsupported wire version \(version) (this build speaks \(WireCodec.supportedVersions.lowerBound)...\(WireCodec.supportedVersions.upperBound))"
        case .unknownFrameType(let type):
            return "unknown frame type \(type)"
        case .frameTooLarge(let bytes, let max):
            return "frame of \(bytes) bytes exceeds maxFrameBytes \(max)"
        case .truncated(let field, let needed, let remaining):
            return "\(field) needs \(needed) bytes but \(remaining) remain"
        case .countExceedsRemaining(let field, let count, let minimum, let remaining):
            return "\(field) count \(count) needs at least \(minimum) bytes but \(remaining) remain"
        case .unknownPayloadTag(let tag):
            return "unknown payload tag \(tag)"
        case .unknownEntryKind(let kind):
            return "unknown entry kind \(kind)"
        case .invalidBool(let field, let value):
            return "\(field) is \(value), expected 0 or 1"
        case .zeroNodeID(let field):
            return "\(field) is node id 0, which is not allowed here"
        case .valueOutOfRange(let field, let value):
            return "\(field) value \(value) is out of range"
        case .duplicateMember(let field, let node):
            return "\(field) lists node \(node) twice (or as both voter and learner)"
        case .invalidText(let field):
            return "\(field) is empty or not valid UTF-8"
        case .trailingBytes(let count):
            return "\(count) unexpected bytes after the last field"
        case .incompleteFrame(let have):
            return "input ends inside a frame (\(have) bytes of it present)"
        }
    }
}
