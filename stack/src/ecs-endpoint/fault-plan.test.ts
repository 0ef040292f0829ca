import { describe, expect, it } from 'vitest';
import { FaultPlan } from './fault-plan.js';

describe('FaultPlan', () => {
  it('consumes exactly as many faults as were armed', () => {
    const plan = new FaultPlan();
    plan.addCapacityFailures('FARGATE_SPOT', 2);
    expect(plan.takeCapacityFailure('FARGATE')).toBe(false);
    expect([1, 2, 3].map(() => plan.takeCapacityFailure('FARGATE_SPOT'))).toEqual([true, true, false]);

    plan.addThrottle(1, 'RunTask');
    plan.addThrottle(1);
    expect(plan.takeThrottle('DescribeTasks')).toBe(true); // the any-operation rule
    expect(plan.takeThrottle('DescribeTasks')).toBe(false);
    expect(plan.takeThrottle('RunTask')).toBe(true);
    expect(plan.takeThrottle('RunTask')).toBe(false);

    plan.addSpotInterrupt(10);
    expect(plan.takeSpotInterrupt()).toBe(10);
    expect(plan.takeSpotInterrupt()).toBeUndefined();
  });
});
