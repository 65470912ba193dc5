import Workflow

/// What applying one log entry did. Every entry has an outcome — also a rejected or
/// malformed one — and it is the same on every replica. The leader returns it to the client.
///
/// ```swift
/// switch engine.apply(index: 42, term: 3, bytes: entry).outcome {
/// case .transitioned(let moved): print("\(moved.id): \(moved.from) → \(moved.to) (index \(moved.index))")
/// case .rejected(let rejection): print(rejection.code, rejection.message)   // e.g. 409
/// default: break
/// }
/// ```
public enum Outcome: Sendable, Hashable {
    /// A workflow version was registered, or (`created == false`) the definition equals the
    /// latest version and nothing changed.
    case workflowRegistered(WorkflowRegistered)
    /// An instance was started.
    case instanceStarted(InstanceStarted)
    /// An instance moved along a transition.
    case transitioned(Transitioned)
    /// The command was refused; the state is unchanged (except that a request id is
    /// remembered with this outcome).
    case rejected(Rejection)
    /// An entry with no command (empty bytes, e.g. a leader's no-op entry).
    case noop
    /// An entry at or below the applied index, skipped: entries apply exactly once, in order.
    case alreadyApplied(index: UInt64, appliedIndex: UInt64)
    /// A hook result was recorded (or ignored, for a dispatch no longer waiting for it).
    case hookRecorded(HookRecorded)
    /// Cron slots were fired, skipped or ignored (one result per slot of the entry).
    case cronFired(CronFired)
    /// State timeouts were taken or ignored (one result per timer of the entry).
    case timerFired(TimerFired)
    /// Finished instances past their retention were removed.
    case instancesPurged(InstancesPurged)
    /// An API token was created or revoked (or, `changed == false`, was already).
    case tokenChanged(TokenChanged)

    /// The rejection, if the command was refused.
    public var rejection: Rejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }

    /// True unless the command was refused.
    public var isAccepted: Bool { rejection == nil }
}

/// `Outcome.workflowRegistered`.
public struct WorkflowRegistered: Sendable, Hashable {
    /// The workflow's name.
    public var name: String
    /// The version registered, or the existing latest version when `created` is false.
    public var version: Int
    /// The definition's content hash.
    public var hash: String
    /// False when the definition equalled the latest version: a no-op.
    public var created: Bool
    /// The log index that registered this version.
    public var index: UInt64

    public init(name: String, version: Int, hash: String, created: Bool, index: UInt64) {
        self.name = name
        self.version = version
        self.hash = hash
        self.created = created
        self.index = index
    }
}

/// `Outcome.instanceStarted`: the API's `201 {id, workflow, version, state, index}`.
public struct InstanceStarted: Sendable, Hashable {
    public var id: String
    public var workflow: String
    /// The version the instance is pinned to for its whole life.
    public var version: Int
    /// The initial state.
    public var state: String
    /// Always 1 for a new instance.
    public var revision: UInt64
    /// The log index that started the instance.
    public var index: UInt64

    public init(id: String, workflow: String, version: Int, state: String, revision: UInt64, index: UInt64) {
        self.id = id
        self.workflow = workflow
        self.version = version
        self.state = state
        self.revision = revision
        self.index = index
    }
}

/// `Outcome.transitioned`: the API's `200 {id, from, to, state, revision, index}`.
public struct Transitioned: Sendable, Hashable {
    public var id: String
    /// The transition taken.
    public var transition: String
    public var from: String
    public var to: String
    /// The instance's revision after the move (one more per accepted transition).
    public var revision: UInt64
    /// The log index that applied the move.
    public var index: UInt64

    /// The instance's state after the move (`to`).
    public var state: String { to }

    public init(id: String, transition: String, from: String, to: String, revision: UInt64, index: UInt64) {
        self.id = id
        self.transition = transition
        self.from = from
        self.to = to
        self.revision = revision
        self.index = index
    }
}

/// `Outcome.hookRecorded`: what a hook result did to its dispatch.
public struct HookRecorded: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// The attempt succeeded: the dispatch is finished.
        case succeeded
        /// The attempt failed; attempt `attempt` may run from `atMillis` (engine time).
        case willRetry(attempt: Int, atMillis: Int64)
        /// The last attempt failed: the dispatch is finished.
        case failed
        /// Nothing changed: the dispatch had finished already, or waits for another attempt.
        case ignored(reason: String)
    }

    public var dispatchID: String
    public var attempt: Int
    public var status: Status
    /// The log index of the result.
    public var index: UInt64

    public init(dispatchID: String, attempt: Int, status: Status, index: UInt64) {
        self.dispatchID = dispatchID
        self.attempt = attempt
        self.status = status
        self.index = index
    }
}

/// `Outcome.cronFired`: what each slot of a `CronFire` entry did.
public struct CronFired: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// The slot fired: it started `started` (a `start` trigger) and moved `moved` instances
        /// (a `transition` trigger, or the previous instance of a `replace` trigger); `notMoved`
        /// matching instances refused the transition.
        case fired(started: String?, moved: Int, notMoved: Int)
        /// The slot was consumed without acting (`concurrency: forbid` while the previous
        /// fire's instance runs, or the start was refused), with the reason.
        case skipped(reason: String)
        /// Nothing changed: the slot fired already, the trigger is gone, or the slot is in the future.
        case ignored(reason: String)
    }

    public struct SlotResult: Sendable, Hashable {
        public var workflow: String
        public var trigger: String
        public var slotMillis: Int64
        public var status: Status

        public init(workflow: String, trigger: String, slotMillis: Int64, status: Status) {
            self.workflow = workflow
            self.trigger = trigger
            self.slotMillis = slotMillis
            self.status = status
        }
    }

    public var results: [SlotResult]
    /// The log index of the entry.
    public var index: UInt64

    public init(results: [SlotResult], index: UInt64) {
        self.results = results
        self.index = index
    }
}

/// `Outcome.timerFired`: what each timer of a `TimerFire` entry did.
public struct TimerFired: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// The timeout's transition was taken.
        case fired(transition: String, from: String, to: String)
        /// Nothing changed: the instance moved on, the timer is not due yet, or it is unknown.
        case ignored(reason: String)
    }

    public struct TimerResult: Sendable, Hashable {
        public var instance: String
        public var revision: UInt64
        public var status: Status

        public init(instance: String, revision: UInt64, status: Status) {
            self.instance = instance
            self.revision = revision
            self.status = status
        }
    }

    public var results: [TimerResult]
    /// The log index of the entry.
    public var index: UInt64

    public init(results: [TimerResult], index: UInt64) {
        self.results = results
        self.index = index
    }
}
