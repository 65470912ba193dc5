/// A bad bench setting or an unusable target.
public struct BenchError: Error, CustomStringConvertible {
    /// What was wrong and what would be right, naming the option (`--clients must be …`).
    public var description: String
    init(_ description: String) { self.description = description }
}
