import Synchronization

/// One node's in-process stream of `CommittedEffects`: its apply loop publishes the effects
/// of every entry it applies, in log order; any number of subscribers each receive every
/// batch after the point they subscribed at.
///
/// Subscribe through `ReplicatedEngine.subscribe()`, which returns the engine state and a
/// subscription that starts exactly after that state's applied index, so nothing falls
/// between what a subscriber reads from the state and what it then receives.
///
/// Bounded: a subscriber that lets `bufferedBatchesMax` batches pile up is cut off — it
/// receives what is buffered, then its iteration throws `EffectStreamError.fellBehind`, and
/// it rebuilds from engine state with a fresh subscription. Publishing never waits for a
/// subscriber, so a slow service cannot stall apply.
public final class EffectStream: Sendable {
    /// Most batches buffered for one subscriber before it is cut off.
    public let bufferedBatchesMax: Int
    private let subscribers = Mutex<(nextID: UInt64, byID: [UInt64: Subscriber])>((1, [:]))

    private struct Subscriber: Sendable {
        var after: UInt64
        /// Only batches with an effect this accepts are handed over (nil: every batch), so a
        /// subscriber is not woken for what it ignores.
        var filter: (@Sendable (Effect) -> Bool)?
        var continuation: AsyncThrowingStream<CommittedEffects, any Error>.Continuation
    }

    /// A stream that buffers at most `bufferedBatchesMax` batches per subscriber.
    public init(bufferedBatchesMax: Int = 65_536) {
        precondition(bufferedBatchesMax >= 1, "bufferedBatchesMax must be at least 1")
        self.bufferedBatchesMax = bufferedBatchesMax
    }

    /// How many subscriptions are open.
    public var subscriberCount: Int { subscribers.withLock { $0.byID.count } }

    /// Hands `batch` to every subscriber that subscribed before its index. Called by the
    /// apply loop, in log order; never blocks.
    func publish(_ batch: CommittedEffects) {
        let cutOff = subscribers.withLock { state -> [Subscriber] in
            guard !state.byID.isEmpty else { return [] }
            var cutOff: [Subscriber] = []
            for (id, subscriber) in state.byID where batch.index > subscriber.after {
                if let filter = subscriber.filter, !batch.effects.contains(where: filter) { continue }
                if case .dropped = subscriber.continuation.yield(batch) {
                    cutOff.append(subscriber)
                    state.byID.removeValue(forKey: id)
                }
            }
            return cutOff
        }
        // Outside the lock: finishing runs the stream's termination handler, which takes it.
        for subscriber in cutOff { subscriber.continuation.finish(throwing: EffectStreamError.fellBehind(index: batch.index)) }
    }

    /// A subscription to every batch with an index above `index` (with `filter`: every such
    /// batch holding an effect it accepts).
    func subscribe(after index: UInt64, filter: (@Sendable (Effect) -> Bool)? = nil) -> EffectSubscription {
        let (stream, continuation) = AsyncThrowingStream<CommittedEffects, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(bufferedBatchesMax))
        let id = subscribers.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.byID[id] = Subscriber(after: index, filter: filter, continuation: continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.byID.removeValue(forKey: id) }
        }
        return EffectSubscription(after: index, stream: stream)
    }

    /// Ends every subscription (the node is stopping): iterations finish normally.
    public func finishAll() {
        let all = subscribers.withLock { state in
            defer { state.byID = [:] }
            return Array(state.byID.values)
        }
        for subscriber in all { subscriber.continuation.finish() }
    }
}

/// The effects of every entry applied after `after`, in log order.
///
/// ```swift
/// let (state, effects) = engine.subscribe()
/// rebuild(from: state)
/// for try await batch in effects {          // throws EffectStreamError.fellBehind if cut off
///     for effect in batch.effects { handle(effect, at: batch.index) }
/// }
/// ```
public struct EffectSubscription: AsyncSequence, Sendable {
    public typealias Element = CommittedEffects
    /// The applied index the subscription starts after.
    public let after: UInt64
    let stream: AsyncThrowingStream<CommittedEffects, any Error>

    public func makeAsyncIterator() -> AsyncThrowingStream<CommittedEffects, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

/// Why an effect subscription ended early.
public enum EffectStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The subscriber did not keep up; the batch at `index` and later ones were not delivered.
    /// Rebuild from engine state and subscribe again.
    case fellBehind(index: UInt64)

    public var description: String {
        switch self {
        case .fellBehind(let index): "the subscriber fell behind the effect stream at index \(index); rebuild from engine state"
        }
    }
}
