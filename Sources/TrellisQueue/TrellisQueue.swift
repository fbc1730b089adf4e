// TrellisQueue — a generic PostgreSQL job queue (River/Oban style). It knows nothing of the domain.
//
// Schema: sql/0002_job_queue.sql (trellis_jobs, trellis_queue_state, trellis_leader, trellis_cron_slots,
// trellis_cron_schedules). Every statement: QueueSQL.swift.
//
// Producing jobs:
//
//     let queue = JobQueue(client: client)
//     try await client.withTransaction(logger: logger) { conn in
//         …domain write on conn…
//         try await queue.enqueue(NewJob(kind: "digest", args: json, agencyID: agency, uniqueKey: "digest:…"), on: conn)
//     }
//     let results = try await queue.enqueueBatch(jobs)          // one INSERT for the whole batch
//     try await queue.cancel(id); try await queue.pause(queue: "exports"); let stats = try await queue.stats()
//
// Running jobs (a swift-service-lifecycle Service):
//
//     var registry = JobRegistry()
//     registry.register("digest") { context in …; return .completed }       // or .snooze(.seconds(60)), .discard(reason:)
//     registry.register("export", arguments: ExportArgs.self, timeout: .seconds(600)) { args, context in … }
//     let worker = JobWorker(client: client, registry: registry,
//                            configuration: .init(queues: ["default": 10, "exports": 2]))
//
// Cron (a Service too; run two, one leads):
//
//     let scheduler = CronScheduler(client: client, schedules: [
//         try CronSchedule(name: "nightly-prune", expression: "0 3 * * *", timeZone: "Europe/Madrid", job: NewJob(kind: "prune")),
//     ])
//
//     ServiceGroup(services: [client, worker, scheduler], …)   // the client first: it must be running
//
// Delivery is at least once: a handler may run again after a crash or a lost lease, so handlers should be
// idempotent (use the job id, or unique keys, to make repeated effects harmless).
