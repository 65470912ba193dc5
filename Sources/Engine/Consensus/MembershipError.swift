/// A membership request that cannot be done. The API answers 404 (`unknown_member`), 409
/// (`membership_conflict`, `learner_not_ready`, `would_lose_quorum`) or 400 (`invalid_argument`).
public enum MembershipError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No member with that id (404 `unknown_member`).
    case unknownMember(id: UInt64)
    /// The change conflicts with the membership (409 `membership_conflict`): the id is taken,
    /// another change is in progress, the node is not a learner, …
    case conflict(reason: String)
    /// The leader refused to promote learner `id`: it is not in sync (409 `learner_not_ready`).
    /// `match` is the learner's match index, `leaderIndex` the leader's last index,
    /// `lagMax` the largest distance accepted, `live` whether the leader heard from it within
    /// the last election timeout.
    case learnerNotReady(id: UInt64, match: UInt64, leaderIndex: UInt64, lagMax: UInt64, live: Bool, reason: String)
    /// The change would leave fewer live voters than a quorum of the new configuration
    /// (409 `would_lose_quorum`): `votersAfter` are the voters it would produce, `live` those
    /// of them the leader heard from within the last election timeout, `quorum` what they need.
    case wouldLoseQuorum(votersAfter: [UInt64], live: [UInt64], quorum: Int, reason: String)
    /// The request is malformed (400 `invalid_argument`).
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case .unknownMember(let id): return "no member with id \(id)"
        case .conflict(let reason): return reason
        case .learnerNotReady(_, _, _, _, _, let reason): return reason
        case .wouldLoseQuorum(_, _, _, let reason): return reason
        case .invalid(let field, let reason): return "\(field): \(reason)"
        }
    }
}
