import Foundation
import TrellisQueue

// The jobs an application operation enqueues, declared by their arguments (River's `JobArgs`): the kind's name
// lives with its arguments type, and the handlers in TrellisJobs run them under the same type.

/// `webhook.deliver`: one event to one webhook.
public struct WebhookDelivery: JobArguments, Hashable {
    public static let kind = "webhook.deliver"
    public static let queue = "webhooks"
    public static let maxAttempts = 8

    public var webhookId: UUID
    /// Sent as `Trellis-Delivery`; the same on every attempt, so receivers can drop repeats.
    public var deliveryId: UUID
    public var event: String
    /// The exact JSON text to post.
    public var body: String

    public init(webhookId: UUID, deliveryId: UUID, event: String, body: String) {
        self.webhookId = webhookId
        self.deliveryId = deliveryId
        self.event = event
        self.body = body
    }
}

/// `plan.recompute`: reschedules one plan after its client's calendar changed.
public struct PlanRecompute: JobArguments, Hashable {
    public static let kind = "plan.recompute"

    public var planId: UUID
    public init(planId: UUID) { self.planId = planId }

    /// One pending recompute per plan: a second calendar change before it runs needs no second job.
    public static func uniqueKey(plan: UUID) -> String { "plan.recompute:\(plan.uuidString.lowercased())" }
}
