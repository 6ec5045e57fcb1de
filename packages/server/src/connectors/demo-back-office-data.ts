/**
 * Seeded records of the three demo businesses. Fictional people; the one-time codes are fixed per
 * member so a demo (and a test) can type them: a real system would text a random code.
 */

export interface DemoMember {
  memberId: string;
  fullName: string;
  email: string;
  phone: string;
  zipCode: string;
  /** The code "texted" to the phone on file. */
  demoCode: string;
  cards: { last4: string; status: 'active' | 'blocked' }[];
  /** After a password reset the login check fails with this code (S1: the MFA device is missing). */
  loginErrorAfterReset?: { code: string; message: string };
}

export interface DemoOrder {
  orderId: string;
  customerName: string;
  email: string;
  shippingAddress: string;
  items: { sku: string; name: string; quantity: number; price: number }[];
  shipping: number;
  total: number;
  carrier: string;
  trackingNumber: string;
  /** Days before now for each tracking event, newest last. */
  tracking: { daysAgo: number; status: string; description: string }[];
}

export interface DemoPatient {
  patientId: string;
  fullName: string;
  /** ISO date. */
  dateOfBirth: string;
  referrals: { referralId: string; specialty: string; status: string; sentDaysAgo: number; diagnosis: string }[];
  appointments: { appointmentId: string; inDays: number; clinician: string; kind: string }[];
}

export const demoMembers: readonly DemoMember[] = [
  {
    memberId: '002245019',
    fullName: 'Dana Reyes',
    email: 'dana.reyes@example.com',
    phone: '(312) 555-0198',
    zipCode: '60614',
    demoCode: '482913',
    cards: [{ last4: '4417', status: 'active' }],
    loginErrorAfterReset: {
      code: 'MFA_DEVICE_NOT_REGISTERED',
      message: 'Sign-in requires a two-step verification device and none is registered for this member.',
    },
  },
  {
    memberId: '003318422',
    fullName: 'Tomasz Wiśniewski',
    email: 'tomasz.w@example.com',
    phone: '(773) 555-0142',
    zipCode: '60647',
    demoCode: '915207',
    cards: [
      { last4: '9921', status: 'active' },
      { last4: '1180', status: 'active' },
    ],
  },
  {
    memberId: '001107733',
    fullName: 'Jane Doe',
    email: 'jane.doe@example.com',
    phone: '(630) 555-0117',
    zipCode: '60540',
    demoCode: '270461',
    cards: [{ last4: '5530', status: 'active' }],
  },
];

export const demoOrders: readonly DemoOrder[] = [
  {
    orderId: 'A10493',
    customerName: 'Maya Chen',
    email: 'maya.chen@example.com',
    shippingAddress: '1842 W Wabansia Ave, Chicago, IL 60622',
    items: [
      { sku: 'TRL-RUN-42', name: 'Trail running shoes', quantity: 1, price: 119.0 },
      { sku: 'MER-SOCK-2', name: 'Merino socks, 2-pack', quantity: 1, price: 24.4 },
      { sku: 'BTL-750', name: 'Insulated bottle 750 ml', quantity: 1, price: 28.9 },
    ],
    shipping: 11.9,
    total: 184.2,
    carrier: 'UPS',
    trackingNumber: '1Z999AA10123456784',
    tracking: [
      { daysAgo: 6, status: 'label_created', description: 'Shipping label created' },
      { daysAgo: 5, status: 'in_transit', description: 'Picked up by carrier' },
      { daysAgo: 2, status: 'out_for_delivery', description: 'Out for delivery' },
      { daysAgo: 2, status: 'delivered', description: 'Delivered, left at front door' },
    ],
  },
  {
    orderId: 'A10512',
    customerName: 'Sam Okafor',
    email: 'sam.okafor@example.com',
    shippingAddress: '77 Lake St, Oak Park, IL 60302',
    items: [{ sku: 'CAP-01', name: 'Running cap', quantity: 2, price: 18.0 }],
    shipping: 6.5,
    total: 42.5,
    carrier: 'USPS',
    trackingNumber: '9400111899223197428490',
    tracking: [
      { daysAgo: 4, status: 'label_created', description: 'Shipping label created' },
      { daysAgo: 3, status: 'in_transit', description: 'In transit to destination facility' },
    ],
  },
];

export const demoPatients: readonly DemoPatient[] = [
  {
    patientId: 'P-20417',
    fullName: 'Maria Gonzalez',
    dateOfBirth: '1962-03-03',
    referrals: [
      {
        referralId: 'R-7781',
        specialty: 'cardiology',
        status: 'sent, awaiting specialist scheduling',
        sentDaysAgo: 9,
        diagnosis: 'Stage 2 hypertension; evaluate for left ventricular hypertrophy',
      },
    ],
    appointments: [{ appointmentId: 'AP-5531', inDays: 21, clinician: 'Dr. Patel', kind: 'primary care follow-up' }],
  },
  {
    patientId: 'P-20533',
    fullName: 'Ahmed Karimi',
    dateOfBirth: '1979-07-22',
    referrals: [
      {
        referralId: 'R-7802',
        specialty: 'dermatology',
        status: 'scheduled',
        sentDaysAgo: 20,
        diagnosis: 'Atypical nevus, left shoulder',
      },
    ],
    appointments: [],
  },
];

/** Refunds above this amount need a person (S2). */
export const REFUND_SELF_SERVICE_LIMIT = 100;
