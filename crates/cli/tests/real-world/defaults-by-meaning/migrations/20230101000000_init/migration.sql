CREATE TABLE "Doc" (
    "id" INTEGER NOT NULL,
    "tags" TEXT[] NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT now(),
    CONSTRAINT "Doc_pkey" PRIMARY KEY ("id")
);
