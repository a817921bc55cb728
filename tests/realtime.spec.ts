import { expect, test } from '../fixtures/index.ts';

test('a row inserted by the backend reaches the signed-in portal in real time', async ({
  page,
  ladder,
  rows,
  target,
}) => {
  test.info().annotations.push({ type: 'target', description: `${target.targetKind} ${target.portalUrl}` });

  // Sign in through the portal, then socket → identity → join → changes ready → service-role insert
  // → event on time, exactly once.
  const cell = await test.step('walk the realtime ladder', () => ladder.run());
  expect(cell).toPassLadder();

  // What the user sees: the config's `shows` locator for the new row, where the app declares one.
  const shows = target.portal.shows;
  if (shows) {
    await test.step('the portal shows the new row', async () => {
      await expect(shows(page, rows.inserted[0]!.values)).toBeVisible();
    });
  }
});
