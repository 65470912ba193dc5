/// Why bytes handed to the engine (a log entry, a snapshot, a stored outcome) could not be
/// decoded. Decoding never traps: every malformed input ends here.
public enum DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended inside `what`, which started at byte `offset`.
    case truncated(what: String, offset: Int)
    /// `what` at byte `offset` is not a valid value: `reason` says why.
    case invalid(what: String, offset: Int, reason: String)
    /// The leading version byte names an encoding this build cannot read.
    case unsupportedVersion(what: String, version: UInt8, supported: UInt8)
    /// A tag byte names no known record, or one reserved for a later version.
    case unknownTag(what: String, tag: UInt8, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let what, let offset):
            return "input ends inside \(what) (starting at byte \(offset))"
        case .invalid(let what, let offset, let reason):
            return "invalid \(what) at byte \(offset): \(reason)"
        case .unsupportedVersion(let what, let version, let supported):
            return "\(what) has encoding version \(version); this build reads version \(supported)"
        case .unknownTag(let what, let tag, let offset):
            return "unknown \(what) tag \(tag) at byte \(offset)"
        }
    }
}
