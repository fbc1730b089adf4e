/// A role of the catalog: the hybrid that the articles describe is one person holding several of these.
public struct HybridRole: Sendable, Hashable, Codable {
    public var key: String
    public var name: String
    public var description: String

    public init(key: String, name: String, description: String) {
        self.key = key
        self.name = name
        self.description = description
    }

    /// The catalog every new agency starts with, from the articles' list of what a community manager also is.
    public static let builtInCatalog: [HybridRole] = [
        HybridRole(key: "community-manager", name: "Community manager",
                   description: "Leads and grows the brand's online communities; the voice of the brand and of its users."),
        HybridRole(key: "social-media-manager", name: "Social media manager",
                   description: "Plans and publishes across social networks; the content calendar."),
        HybridRole(key: "marketing", name: "Marketing",
                   description: "Campaigns, positioning and target audiences."),
        HybridRole(key: "communication", name: "Communication",
                   description: "Internal and external communication, tone and messaging."),
        HybridRole(key: "public-relations", name: "Public relations",
                   description: "Press, influencers and reputation."),
        HybridRole(key: "sales", name: "Sales",
                   description: "Turns community relationships into leads and sales."),
        HybridRole(key: "customer-service", name: "Customer service",
                   description: "Answers customers in public and private channels."),
        HybridRole(key: "hr-recruiting", name: "HR / recruiting",
                   description: "Employer brand, recruiting and training the in-house hire."),
        HybridRole(key: "digital-new-media", name: "Digital / new media",
                   description: "Web, blogs, new platforms and tools."),
        HybridRole(key: "strategy", name: "Strategy",
                   description: "Goals, measurement and the plan that ties the work to the client's business."),
    ]

    public func validate() throws(ValidationError) {
        var errors = FieldErrors()
        if !Slug.isValid(key) { errors.add("key", "must be 2–63 lowercase letters, digits or hyphens, starting with a letter") }
        if name.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("name", "must not be empty") }
        if name.unicodeScalars.count > 120 { errors.add("name", "must be at most 120 characters") }
        if description.unicodeScalars.count > 2000 { errors.add("description", "must be at most 2000 characters") }
        try errors.check()
    }
}
