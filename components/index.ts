export { RoutedSubnet, RoutedSubnetArgs, RoutedSubnetNode, validateRoutedSubnet } from "./routed-subnet";
export { ExternalReturnRoute, ExternalReturnRouteArgs, ReturnRouteTarget, validateExternalReturnRoute } from "./external-return-route";
