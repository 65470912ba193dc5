/// What an API token may do (docs/security.md). Each role includes the ones before it:
/// `read` < `submit` < `admin`.
///
/// - `read`: every `GET` (instances, histories, workflows, cluster, schedules) and event streams.
/// - `submit`: also start instances and request transitions.
/// - `admin`: also register workflow definitions (a definition decides which plugins run on
///   the leader), manage tokens, change the membership, transfer leadership, save snapshots.
public enum TokenRole: UInt8, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case read = 1
    case submit = 2
    case admin = 3

    /// The role's name on the wire and the command line.
    public var name: String {
        switch self {
        case .read: "read"
        case .submit: "submit"
        case .admin: "admin"
        }
    }

    public var description: String { name }

    /// The role named `name` (`read`, `submit`, `admin`), or nil.
    public init?(name: String) {
        guard let role = TokenRole.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }

    /// True when a token of this role may do what `required` allows.
    public func allows(_ required: TokenRole) -> Bool { self >= required }

    public static func < (lhs: TokenRole, rhs: TokenRole) -> Bool { lhs.rawValue < rhs.rawValue }
}
