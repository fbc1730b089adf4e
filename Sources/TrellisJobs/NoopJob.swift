/// `system.noop`: does nothing and completes — the job the queue benchmark drains (its arguments are not
/// even decoded, like the no-op handlers of the Python queues it is compared with).
public enum NoopJob {
    public static let kind = "system.noop"
}
