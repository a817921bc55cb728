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

  // What the user sees: the config's `shows` locator for the latest row the cell did not delete
  // (with operations including DELETE, the sample row is gone by design), where the app declares one.
  const shows = target.portal.shows;
  const standing = rows.inserted.filter((r) => !rows.removed.has(r.id)).at(-1);
  if (shows && standing) {
    await test.step('the portal shows the new row', async () => {
      await expect(shows(page, standing.values)).toBeVisible();
    });
  }
});
