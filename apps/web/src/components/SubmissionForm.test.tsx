import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { type AnswerValue, ApiError, type Form } from '../api/client';
import { problemWith, SubmissionForm } from './SubmissionForm';

const form: Form = {
  id: 'f1',
  title: 'Conference sign-up',
  fields: [
    { name: 'name', label: 'Full name', type: 'text', required: true },
    { name: 'email', label: 'Email', type: 'email', required: true },
    { name: 'age', label: 'Age', type: 'number', required: false },
    { name: 'size', label: 'T-shirt size', type: 'choice', required: true, options: ['S', 'M', 'L'] },
    { name: 'comment', label: 'Comment', type: 'text', required: false },
  ],
};

const problemOf = (label: string) => {
  const input = screen.getByLabelText(label, { exact: false });
  const id = input.getAttribute('aria-describedby');
  return id ? document.getElementById(id)?.textContent : undefined;
};

describe('SubmissionForm', () => {
  it('marks each invalid field next to its input and sends nothing', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn(async () => ({ id: 's1' }));
    render(<SubmissionForm form={form} onSubmit={onSubmit} />);

    await user.type(screen.getByLabelText('Email', { exact: false }), 'not-an-address');
    await user.type(screen.getByLabelText('Age'), '12');
    await user.click(screen.getByRole('button', { name: 'Submit' }));

    expect(onSubmit).not.toHaveBeenCalled();
    expect(problemOf('Full name')).toBe('This field is required.');
    expect(problemOf('Email')).toBe('Enter an email address like name@example.com.');
    expect(problemOf('T-shirt size')).toBe('This field is required.');
    expect(problemOf('Age')).toBeUndefined();
    expect(screen.getByLabelText('Full name', { exact: false }).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Age').getAttribute('aria-invalid')).toBe('false');
  });

  it('sends numbers as numbers, leaves empty optional fields out, and thanks the person', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn(async (_answers: Record<string, AnswerValue>) => ({ id: 'sub-42' }));
    render(<SubmissionForm form={form} onSubmit={onSubmit} />);

    await user.type(screen.getByLabelText('Full name', { exact: false }), 'Ada Lovelace');
    await user.type(screen.getByLabelText('Email', { exact: false }), 'ada@example.com');
    await user.type(screen.getByLabelText('Age'), '36');
    await user.selectOptions(screen.getByLabelText('T-shirt size', { exact: false }), 'M');
    await user.click(screen.getByRole('button', { name: 'Submit' }));

    expect(onSubmit).toHaveBeenCalledWith({
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      age: 36,
      size: 'M',
    });
    expect((await screen.findByRole('status')).textContent).toContain(
      'Your answers were sent (reference sub-42)',
    );
  });

  it("shows the server's verdict on each field it names (400)", async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn(async () => {
      throw new ApiError(400, 'invalid answers', 'form-service', { email: 'this address is not accepted' });
    });
    render(<SubmissionForm form={form} onSubmit={onSubmit} />);
    await user.type(screen.getByLabelText('Full name', { exact: false }), 'Ada');
    await user.type(screen.getByLabelText('Email', { exact: false }), 'ada@example.com');
    await user.selectOptions(screen.getByLabelText('T-shirt size', { exact: false }), 'S');
    await user.click(screen.getByRole('button', { name: 'Submit' }));

    expect(await screen.findByText('this address is not accepted')).toBeTruthy();
    expect(problemOf('Email')).toBe('this address is not accepted');
    expect(screen.getByRole('alert').textContent).toContain('invalid answers');
    // What the person typed stays, so they only fix the named field.
    expect(screen.getByLabelText('Full name', { exact: false })).toHaveProperty('value', 'Ada');
  });
});

describe('problemWith', () => {
  it.each([
    [{ type: 'number', required: true }, '', 'This field is required.'],
    [{ type: 'number', required: false }, '', null],
    [{ type: 'number', required: false }, 'abc', 'Enter a number.'],
    [{ type: 'number', required: false }, '-1.5', null],
    [{ type: 'email', required: false }, 'a@b.co', null],
    [{ type: 'email', required: false }, 'a@b', 'Enter an email address like name@example.com.'],
    [{ type: 'choice', required: false, options: ['x', 'y'] }, 'z', 'Choose one of: x, y.'],
    [{ type: 'text', required: true }, '   ', 'This field is required.'],
  ] as const)('%j with %j -> %j', (shape, raw, expected) => {
    const options = 'options' in shape ? [...shape.options] : undefined;
    expect(problemWith({ name: 'f', label: 'F', ...shape, options }, raw)).toBe(expected);
  });
});
