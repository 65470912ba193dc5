/// The simulator's only source of randomness: xoshiro256** seeded through SplitMix64.
///
/// Every choice the simulator makes (message delays, drops, which node crashes, election
/// seeds handed to the cores) is drawn from one of these, so a run is a pure function of its
/// seed. The standard library's `Int.random(in:using:)` is avoided on purpose: its mapping
/// from generator output to a range is not promised to stay the same across Swift versions,
/// and a seed must replay the same run forever.
///
/// ```swift
/// var random = SimulationRandom(seed: 42)
/// let delay = random.int(in: 10...400)
/// if random.chance(0.05) { /* drop the message */ }
/// ```
public struct SimulationRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole output is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniformly distributed value in `0..<bound` (Lemire's multiply-shift with rejection).
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "empty range")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }

    /// A uniformly distributed integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(below(width))
    }

    /// `true` with probability `probability` (0 never, 1 always).
    public mutating func chance(_ probability: Double) -> Bool {
        if probability <= 0 { return false }
        if probability >= 1 { return true }
        // 53 random bits give a uniform double in [0, 1).
        return Double(next() >> 11) * 0x1p-53 < probability
    }

    /// One element of a non-empty collection.
    public mutating func pick<C: Collection>(_ elements: C) -> C.Element {
        precondition(!elements.isEmpty, "pick from an empty collection")
        let offset = Int(below(UInt64(elements.count)))
        return elements[elements.index(elements.startIndex, offsetBy: offset)]
    }

    /// The elements in a random order (Fisher–Yates).
    public mutating func shuffled<T>(_ elements: [T]) -> [T] {
        var result = elements
        if result.count < 2 { return result }
        for i in stride(from: result.count - 1, to: 0, by: -1) {
            let j = Int(below(UInt64(i + 1)))
            result.swapAt(i, j)
        }
        return result
    }

    /// An independent generator derived from this one, for a sub-component whose draws must
    /// not shift every other draw when it is added or changed.
    public mutating func fork() -> SimulationRandom {
        SimulationRandom(seed: next())
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

extension SimulationRandom {
    /// The first output for seed 1; a test pins it so that no change to the generator can
    /// silently change what every recorded seed replays.
    public static let pinnedFirstOutputOfSeed1: UInt64 = 12_966_619_160_104_079_557
}
