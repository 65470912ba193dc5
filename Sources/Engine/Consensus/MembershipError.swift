/// A membership request that cannot be done. The API answers 404 (`unknown_member`), 409 (`membership_conflict`) or 400 (`invalid_argument`).
public enum MembershipError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No member with that id (404 `unknown_member`).
    case unknownMember(id: UInt64)
    /// The change conflicts with the membership (409 `membership_conflict`): the id is taken,
    /// another change is in progress, the node is not a learner, removing would lose quorum, …
    case conflict(reason: String)
    /// The request is malformed (400 `invalid_argument`).
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case .unknownMember(let id): return "no member with id \(id)"
        case .conflict(let reason): return reason
        case .invalid(let field, let reason): return "\(field): \(reason)"
        }
    }
}
