import { decodePayload, readEvent } from '../../lib/events/event-body';

const body = (json: unknown) => Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));
const grantPayload = { userId: 'user-1', projectId: 'project-1', roleKeys: ['reader'] };

describe('event body', () => {
  it("reads ZITADEL's full body, never taking userID (the actor) for the user", () => {
    const read = readEvent(
      body({
        aggregateID: 'grant-1',
        aggregateType: 'usergrant',
        resourceOwner: 'org-1',
        instanceID: 'instance-1',
        version: 'usergrant.v1',
        sequence: 42,
        event_type: 'user.grant.added',
        created_at: '2025-01-01T00:00:00Z',
        userID: 'admin-1',
        event_payload: grantPayload,
      }),
      'instance-1',
    );
    expect(read).toEqual({
      event: {
        type: 'user.grant.added',
        aggregateId: 'grant-1',
        sequence: '42',
        payload: grantPayload,
      },
    });
  });

  it.each([
    ['an object', grantPayload, grantPayload],
    [
      'a base64 string of JSON',
      Buffer.from(JSON.stringify(grantPayload)).toString('base64'),
      grantPayload,
    ],
    ['a JSON string', JSON.stringify(grantPayload), grantPayload],
    ['{}', {}, {}],
    ['null', null, {}],
    ['absent', undefined, {}],
    ['base64 of something that is not JSON', Buffer.from('nope').toString('base64'), {}],
    ['base64 of a JSON array', Buffer.from('[1]').toString('base64'), {}],
    ['an array', [grantPayload], {}],
    ['a number', 7, {}],
  ])('event_payload as %s', (_name, payload, expected) => {
    expect(decodePayload(payload)).toEqual(expected);
    const read = readEvent(
      body({ aggregateID: 'g', event_type: 'user.grant.added', event_payload: payload }),
      undefined,
    );
    expect(read).toMatchObject({ event: { payload: expected } });
  });

  it.each([
    ['not JSON', 'aggregateID=1'],
    ['a JSON array', '[{"aggregateID":"1","event_type":"user.deactivated"}]'],
    ['JSON null', 'null'],
    ['a JSON string', '"user.deactivated"'],
    ['empty', ''],
  ])('a body that is %s → 400', (_name, text) => {
    expect(readEvent(body(text), undefined)).toEqual({ status: 400, fault: 'not a JSON object' });
  });

  it('missing or empty event_type / aggregateID → 400', () => {
    expect(readEvent(body({ aggregateID: '1' }), undefined)).toEqual({
      status: 400,
      fault: 'missing event_type',
    });
    expect(readEvent(body({ aggregateID: '1', event_type: '' }), undefined)).toMatchObject({
      status: 400,
    });
    expect(readEvent(body({ event_type: 'user.deactivated' }), undefined)).toEqual({
      status: 400,
      fault: 'missing aggregateID',
    });
    expect(
      readEvent(body({ event_type: 'user.deactivated', aggregateID: 123 }), undefined),
    ).toMatchObject({ status: 400 });
  });

  it('another instance (or none) → 403 when an instance is expected', () => {
    const event = { aggregateID: '1', event_type: 'user.deactivated' };
    expect(readEvent(body({ ...event, instanceID: 'other' }), 'mine')).toEqual({
      status: 403,
      fault: 'other instance',
    });
    expect(readEvent(body(event), 'mine')).toMatchObject({ status: 403 });
    expect(readEvent(body({ ...event, instanceID: 'other' }), undefined)).toMatchObject({
      event: { type: 'user.deactivated' },
    });
  });

  it('sequence: a number or a string; absent or empty is undefined', () => {
    const event = { aggregateID: '1', event_type: 'user.deactivated' };
    expect(readEvent(body({ ...event, sequence: '9' }), undefined)).toMatchObject({
      event: { sequence: '9' },
    });
    expect(readEvent(body({ ...event, sequence: '' }), undefined)).toMatchObject({
      event: { sequence: undefined },
    });
    expect(readEvent(body({ ...event, sequence: { n: 1 } }), undefined)).toMatchObject({
      event: { sequence: undefined },
    });
  });
});
