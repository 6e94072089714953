/** A tool's `service` argument as the commands' names: none or `all` means every service. */
export function namesOf(service: string | undefined): string[] {
  const name = service?.trim();
  return name ? [name] : [];
}
