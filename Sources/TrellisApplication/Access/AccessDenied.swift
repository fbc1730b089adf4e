import TrellisDomain

/// The principal's role does not allow the action (403). A resource the principal may not see is reported
/// as not found instead, so its existence does not leak.
public struct AccessDenied: Error, Sendable, Hashable {
    public var action: Action
}

extension Principal {
    /// Throws unless the tenant policy lets this principal's role take `action`.
    func require(_ action: Action) throws(AccessDenied) {
        if !TenantPolicy.allows(role, action) { throw AccessDenied(action: action) }
    }
}
