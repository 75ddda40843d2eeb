export { NodeArgs } from "./nodes";
export { RoutedSubnet, RoutedSubnetArgs, RoutedSubnetNode, validateRoutedSubnet } from "./routed-subnet";
export { ExternalReturnRoute, ExternalReturnRouteArgs, ExternalReturnRouteVerify, ReturnRouteTarget, validateExternalReturnRoute } from "./external-return-route";
export { PathVerifyArgs } from "./verify";
export { GatewayVip, GatewayVipArgs, GatewayVipNode, validateGatewayVipArgs } from "./gateway-vip";
export { TunnelFabric, TunnelFabricArgs, TunnelFabricNode, validateTunnelFabricArgs } from "./tunnel-fabric";
export {
    fabricRouteConfigurations,
    liqoTableId,
    LiqoRoute,
    LiqoRule,
    renderRouteConfiguration,
    RouteConfigurationInput,
    validateRouteConfiguration,
} from "./render/routeconfiguration";
