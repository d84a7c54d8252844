/**
 * `maxIntrospectionsPerSecond`: how many logical introspections may start per
 * second. With a {@link FleetLink} the count is the fleet's, kept by a Lua
 * script on Redis's own clock; without one (or when Redis does not answer
 * within the store's timeout) it is this process's own count.
 */
import type { FleetLink } from './fleet-link';
import { BUDGET_SCRIPT } from './flow-scripts';

/**
 * The budget of {@link createRateBudget}.
 *
 * @example
 * ```ts
 * if (!(await budget.take())) throw new IntrospectionUnavailableError('over budget', { retryAfterSeconds: 1 });
 * ```
 */
export interface RateBudget {
  /** Counts one call and says whether it is within the budget (a refusal is not counted). */
  take(): boolean | Promise<boolean>;
}

/**
 * Creates the budget.
 *
 * @example
 * ```ts
 * const budget = createRateBudget({ perSecond: 40, now: Date.now, link: () => introspector[FLEET_LINK]() });
 * ```
 */
export function createRateBudget(options: {
  perSecond: number;
  now: () => number;
  /** The fleet's link, asked at each take (a coordinating store has one once attached). */
  link?: () => FleetLink | undefined;
}): RateBudget {
  const { perSecond, now, link } = options;
  let second = -1;
  let count = 0;

  function takeLocally(): boolean {
    const current = Math.floor(now() / 1000);
    if (current !== second) {
      second = current;
      count = 0;
    }
    if (count >= perSecond) return false;
    count++;
    return true;
  }

  async function takeFromFleet(fleet: FleetLink): Promise<boolean> {
    let answer: unknown;
    try {
      answer = await fleet.eval(BUDGET_SCRIPT, [fleet.key('budget')], [String(perSecond)]);
    } catch {
      // Redis slow or down: this process's own count bounds it meanwhile.
      return takeLocally();
    }
    return answer === 1;
  }

  return {
    take() {
      const fleet = link?.();
      return fleet ? takeFromFleet(fleet) : takeLocally();
    },
  };
}
